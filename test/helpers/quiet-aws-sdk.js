// See jest.config.js: the AWS SDK's one-time Node version notice is not a test's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
