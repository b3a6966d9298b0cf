/**
 * Base of every typed error in the project. `code` is stable API: it is what clients match on,
 * what metrics are labelled with and what exception filters map to transport status codes.
 */
export abstract class AppError<C extends string = string> extends Error {
  /** Which library/domain the code belongs to, e.g. `ticket`, `chain`, `config`. */
  abstract readonly domain: string;

  constructor(
    readonly code: C,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  toJSON(): { domain: string; code: C; message: string } {
    return { domain: this.domain, code: this.code, message: this.message };
  }
}
