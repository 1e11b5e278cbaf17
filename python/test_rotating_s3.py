"""Tests of rotating_s3.py against a real S3 server (moto), run by
packages/rotating-s3-core/test/python-helper.e2e.spec.ts inside `npm test`, which passes:

- ROTATING_S3_PY_TEST_BIN: the merge stage's bin (packages/stages/merge/bin/merge_rotating_s3.js);
- the S3 endpoint, credentials and an existing bucket in the AWS_* / ROTATING_S3_* variables;
- TMPDIR: a private directory (so the test can see that no payload file is left behind).

Run by hand: `cd python && ROTATING_S3_PY_TEST_BIN=… AWS_ENDPOINT_URL_S3=… python3 -m unittest -v`.
"""

import os
import shutil
import tempfile
import unittest

from rotating_s3 import BadInput, LogFailed, StageBin

NOW = "2026-11-28T12:00:00-05:00"


class StageBinTest(unittest.TestCase):
    def setUp(self) -> None:
        self.bin = os.environ["ROTATING_S3_PY_TEST_BIN"]
        self.work = tempfile.mkdtemp(prefix="py-stage-")
        self.addCleanup(shutil.rmtree, self.work, ignore_errors=True)
        self.env = dict(os.environ, ROTATING_S3_LOCAL_DIR=os.path.join(self.work, "local"), ROTATING_S3_FETCH_LIMIT="2")

    def stage(self, **kwargs) -> StageBin:
        return StageBin(self.bin, cwd=self.work, env=kwargs.pop("env", self.env), now=NOW, **kwargs)

    def leftover_payload_files(self) -> list:
        return [n for n in os.listdir(tempfile.gettempdir()) if n.startswith("rotating-s3-")]

    def test_logs_a_payload_through_a_temp_file_and_returns_the_json_line(self) -> None:
        result = self.stage().log({"matches": [{"match_id": "a"}, {"match_id": "b"}]}, fetch_id="run-1")
        self.assertEqual(result["fetch_id"], "run-1")
        self.assertEqual(result["fetch_number"], 1)
        self.assertEqual(result["records"], 2)
        self.assertEqual(result["date"], "2026-11-28")
        self.assertFalse(result["duplicate"])
        self.assertEqual(self.leftover_payload_files(), [])

    def test_a_retry_with_the_same_fetch_id_returns_the_original_number(self) -> None:
        stage = self.stage()
        first = stage.log({"matches": []}, fetch_id="run-7")
        again = stage.log({"matches": []}, fetch_id="run-7")
        self.assertEqual(again["fetch_number"], first["fetch_number"])
        self.assertTrue(again["duplicate"])

    def test_makes_a_fetch_id_when_none_is_given(self) -> None:
        result = self.stage().log({"matches": []})
        self.assertRegex(result["fetch_id"], r"^py-[0-9a-f]{32}$")

    def test_rotates_into_s3_after_fetch_limit_fetches(self) -> None:
        stage = self.stage()
        stage.log({"matches": [{"match_id": "r1"}]}, fetch_id="rot-1")
        second = stage.log('{"matches": [{"match_id": "r2", "score": [1, 2]}]}', fetch_id="rot-2")
        self.assertTrue(second["rotated"], second)
        self.assertEqual(second["upload_sequence"], 1)
        self.assertEqual(second["pending"], 0)
        self.assertNotIn("upload_error", second)

    def test_bad_input_raises_bad_input_with_the_code_and_writes_nothing(self) -> None:
        with self.assertRaises(BadInput) as caught:
            self.stage().log("not json", fetch_id="bad-1")
        self.assertEqual(caught.exception.code, "E_PAYLOAD")
        self.assertEqual(caught.exception.exit_code, 2)
        self.assertRegex(str(caught.exception), r"^merge_rotating_s3: error E_PAYLOAD: ")
        self.assertFalse(os.path.exists(os.path.join(self.work, "local", "merge_fetches.log")))
        self.assertEqual(self.leftover_payload_files(), [])

    def test_an_upload_failure_is_returned_not_raised_the_fetch_is_logged(self) -> None:
        env = dict(self.env, ROTATING_S3_BUCKET="no-such-bucket-python", ROTATING_S3_FETCH_LIMIT="1")
        result = self.stage(env=env).log({"matches": []}, fetch_id="up-1")
        self.assertEqual(result["fetch_number"], 1)
        self.assertEqual(result["pending"], 1)
        self.assertEqual(result["upload_error"]["code"], "E_S3_NO_BUCKET")

    def test_a_failure_is_retried_with_the_same_fetch_id_then_raised(self) -> None:
        blocker = os.path.join(self.work, "a-file")
        open(blocker, "w").close()
        env = dict(self.env, ROTATING_S3_LOCAL_DIR=os.path.join(blocker, "local"))
        with self.assertRaises(LogFailed) as caught:
            self.stage(env=env, retries=1, retry_delay=0).log({"matches": []}, fetch_id="fail-1")
        self.assertEqual(caught.exception.code, "E_LOCAL_IO")
        self.assertEqual(caught.exception.exit_code, 1)
        self.assertEqual(self.leftover_payload_files(), [])


if __name__ == "__main__":
    unittest.main()
