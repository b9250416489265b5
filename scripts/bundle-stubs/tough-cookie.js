// Stand-in for `tough-cookie` in the SCF bundles. cos-request builds a global cookie jar at load time, but a
// request only touches cookies when it is given a `jar`, which the COS SDK never does. Leaving it out drops
// the public-suffix list (psl, 160 KB) from every cold start.
'use strict';
function CookieJar() {}
CookieJar.prototype.setCookieSync = function setCookieSync() {
  return undefined;
};
CookieJar.prototype.getCookieStringSync = function getCookieStringSync() {
  return '';
};
exports.CookieJar = CookieJar;
exports.Cookie = {
  parse: function parse() {
    return undefined;
  },
};
