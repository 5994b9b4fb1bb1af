/**
 * Keeps credentials out of what the tool prints: an endpoint may carry a user name and a
 * password (`http://user:secret@host`), and error lines, usage errors and stack traces would
 * otherwise repeat them.
 */

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** What replaces the user name and password of a URL. */
export const REDACTED_USERINFO = "***";

const parses = (url: string): boolean => {
  try {
    new URL(url);
    return true;
  } catch {
    return false;
  }
};

/**
 * `url` with its userinfo (user name and password) replaced by `***`, everything else as
 * written: `http://user:secret@host:8000` gives `http://***@host:8000`. In a valid URL the
 * userinfo ends at the last `@` before the path, query or fragment; a text that is no valid
 * URL (which the tool prints when refusing it) loses everything up to its last `@`, since
 * there is no telling where a password in it ends.
 */
export const redactUrl = (url: string): string => {
  const scheme = SCHEME.exec(url)?.[0] ?? "";
  const rest = url.slice(scheme.length);
  const authority = parses(url) ? rest.slice(0, rest.search(/[/?#\\]|$/)) : rest;
  const at = authority.lastIndexOf("@");
  return at < 0 ? url : `${scheme}${REDACTED_USERINFO}${rest.slice(at)}`;
};

/** Anything that looks like `scheme://…`, up to a space, quote or bracket. */
const URL_IN_TEXT = /[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s"'`<>()[\]{}]*/g;

/** `text` with `redactUrl` applied to every URL in it (`scheme://…`). */
export const redactUrls = (text: string): string =>
  text.replace(URL_IN_TEXT, (url) => redactUrl(url));
