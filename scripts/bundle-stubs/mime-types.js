// Stand-in for `mime-types` in the SCF bundles. The COS SDK and cos-request look up a content type only for
// bodies that are file streams; this project always sends strings with an explicit ContentType. Leaving out the
// 137 KB mime database saves parsing it on every cold start.
'use strict';
function none() {
  return false;
}
exports.lookup = none;
exports.contentType = none;
exports.extension = none;
exports.charset = none;
exports.types = {};
exports.extensions = {};
