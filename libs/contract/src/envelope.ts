/** The reply envelope of every endpoint, success or error: the reference platform's shape. */
export interface Envelope<T> {
  /** 200 on success, else a code from the error catalogue. */
  code: number;
  /** null on success, else an English description of the error. */
  message: string | null;
  /** The result on success, null on error. */
  data: T | null;
}

export const SUCCESS_CODE = 200;

export function successEnvelope<T>(data: T): Envelope<T> {
  return { code: SUCCESS_CODE, message: null, data };
}

export function errorEnvelope(code: number, message: string): Envelope<null> {
  return { code, message, data: null };
}
