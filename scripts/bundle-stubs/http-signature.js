// Stand-in for `http-signature` in the SCF bundles. cos-request (the COS SDK's HTTP client, a fork of `request`)
// requires it at load time but calls it only for its `httpSignature` option, which the COS SDK never sets.
// Leaving out it and its crypto tree (sshpk, tweetnacl, jsbn, ...) saves about 200 KB and a slice of cold start.
'use strict';
exports.signRequest = function signRequest() {
  throw new Error('http-signature is not included in this bundle (see scripts/bundle-stubs)');
};
