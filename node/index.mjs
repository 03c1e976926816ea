// ES module entry of twilio-oauth: the same objects as the CommonJS entry (index.js).
import cjs from './index.js'

export const {
  OAuthClient,
  TokenProvider,
  Token,
  DeviceAuthorization,
  AuthorizationRequest,
  FileStore,
  RedisStore,
  DEVICE_CODE_GRANT,
  TwilioOAuthError,
  ApiError,
  RateLimitedError,
  LoginRequiredError,
  ConfigError,
  AccessDeniedError,
  ExpiredTokenError,
  TransportError,
  TimeoutError,
  InvalidResponseError,
  CancelledError,
  StoreError
} = cjs

export default cjs
