// Registry credentials as the Docker API carries them: the `X-Registry-Auth` header (base64url
// JSON) on pull and push, and the body of `POST /auth`.

export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64 of `username:password` (what ~/.docker/config.json stores). */
  auth?: string;
  email?: string;
  serveraddress?: string;
  /** A refresh token from an earlier login, used instead of the password. */
  identitytoken?: string;
  /** A bearer token for the registry itself. */
  registrytoken?: string;
}
