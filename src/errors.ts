// Berth's error vocabulary (moby's errdefs classes). Code throws the class where the
// fault arises; api/errors.ts is the only place that turns a class into an HTTP status.

export class BerthError extends Error {
  /** HTTP status the API boundary maps this class to. */
  readonly status: number = 500;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidParameter extends BerthError { override readonly status = 400; }
export class Unauthorized extends BerthError { override readonly status = 401; }
export class Forbidden extends BerthError { override readonly status = 403; }
export class NotFound extends BerthError { override readonly status = 404; }
export class Conflict extends BerthError { override readonly status = 409; }
export class NotModified extends BerthError { override readonly status = 304; }
export class NotImplemented extends BerthError { override readonly status = 501; }
export class Unavailable extends BerthError { override readonly status = 503; }
/** A real fault of the host or of Berth itself: the only class that becomes a 500. */
export class System extends BerthError { override readonly status = 500; }

export function noSuchContainer(ref: string): NotFound {
  return new NotFound(`No such container: ${ref}`);
}

export function noSuchImage(ref: string): NotFound {
  return new NotFound(`No such image: ${ref}`);
}

export function noSuchExec(ref: string): NotFound {
  return new NotFound(`No such exec instance: ${ref}`);
}
