// s3rver ships no types; this is the slice of its API the harness uses.
declare module 's3rver' {
  export default class S3rver {
    constructor(options: { port?: number; address?: string; directory: string; silent?: boolean });
    run(): Promise<unknown>;
    close(): Promise<void>;
  }
}
