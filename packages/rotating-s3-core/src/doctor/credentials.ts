/** How `doctor` names the credentials in use without printing them: where they came from, and a masked key id. */

/** Where each credential provider of the AWS default chain reports itself (`credentials.$source`). */
const CREDENTIAL_SOURCES: Array<[string, (env: NodeJS.ProcessEnv) => string]> = [
  ['CREDENTIALS_ENV_VARS_STS_WEB_ID_TOKEN', () => 'web identity token from the environment (AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN, e.g. EKS IRSA)'],
  ['CREDENTIALS_ENV_VARS', () => 'environment variables (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)'],
  ['CREDENTIALS_PROFILE_SSO', (env) => `IAM Identity Center (SSO) session of profile "${env['AWS_PROFILE'] ?? 'default'}"`],
  ['CREDENTIALS_SSO', (env) => `IAM Identity Center (SSO) session of profile "${env['AWS_PROFILE'] ?? 'default'}"`],
  ['CREDENTIALS_PROFILE_PROCESS', (env) => `credential_process of profile "${env['AWS_PROFILE'] ?? 'default'}"`],
  ['CREDENTIALS_PROFILE_STS_WEB_ID_TOKEN', (env) => `web identity role of profile "${env['AWS_PROFILE'] ?? 'default'}"`],
  ['CREDENTIALS_PROFILE_SOURCE_PROFILE', (env) => `role assumed by profile "${env['AWS_PROFILE'] ?? 'default'}" (source_profile)`],
  ['CREDENTIALS_PROFILE_NAMED_PROVIDER', (env) => `role assumed by profile "${env['AWS_PROFILE'] ?? 'default'}" (credential_source)`],
  ['CREDENTIALS_PROFILE_LOGIN', (env) => `console login session of profile "${env['AWS_PROFILE'] ?? 'default'}"`],
  ['CREDENTIALS_PROFILE', (env) => `shared credentials/config file, profile "${env['AWS_PROFILE'] ?? 'default'}"`],
  ['CREDENTIALS_HTTP', () => 'container credentials endpoint (ECS task role or EKS Pod Identity)'],
  ['CREDENTIALS_IMDS', () => 'EC2 instance metadata (instance profile role)'],
  ['CREDENTIALS_PROCESS', () => 'credential_process'],
  ['CREDENTIALS_CODE', () => 'credentials passed in code'],
];

export function credentialSource(source: Record<string, unknown> | undefined, env: NodeJS.ProcessEnv): string {
  for (const [feature, describe] of CREDENTIAL_SOURCES) if (source?.[feature] !== undefined) return describe(env);
  if (env['AWS_ACCESS_KEY_ID']) return 'environment variables (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)';
  if (env['AWS_PROFILE']) return `profile "${env['AWS_PROFILE']}"`;
  return 'the AWS default credential chain';
}

export function maskKey(id: string): string {
  return id.length <= 8 ? '****' : `${id.slice(0, 4)}…${id.slice(-2)}`;
}
