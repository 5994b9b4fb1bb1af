/**
 * Silences the AWS SDK's Node.js version notice for this process: imported first by the
 * command's entry point, before anything loads the SDK. The notice (nine lines on stderr on
 * every run under Node.js 20) is about the SDK's future releases, not about the tool; library
 * users keep it, since only the tool's own entry point imports this module.
 */

/** The SDK's switch for that notice (read by `@aws-sdk/core`'s `emitWarningIfUnsupportedVersion`). */
export const SDK_NODE_NOTICE_SWITCH = "AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED";

// A value the user set (e.g. "false", to see the notice) stays as it is.
process.env[SDK_NODE_NOTICE_SWITCH] ??= "true";
