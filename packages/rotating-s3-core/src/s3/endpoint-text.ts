/**
 * Endpoint URLs may carry credentials in their userinfo (`http://user:password@host:9000`). Anything that
 * prints an endpoint, or a message that may quote one (SDK errors), passes it through `maskUrlCredentials`
 * first: secrets are never printed.
 */

/** `scheme://userinfo@`; userinfo never holds a quote, whitespace or a delimiter, so JSON text stays intact. */
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"'<>\\]*@/gi;

/** `text` with the userinfo of every URL in it replaced by `***`: `http://***@127.0.0.1:9000`. */
export function maskUrlCredentials(text: string): string {
  return text.replace(USERINFO, '$1***@');
}
