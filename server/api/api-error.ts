import { ImError } from '../errors';

/**
 * A protocol-level answer (415, 413, missing Authorization...) that IM gives without the
 * operation's "Error Creating Inf.: " prefix.
 */
export class ApiError extends ImError {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

