import { ValueTransformer } from 'typeorm';

/**
 * `bigint` columns come back from `pg` as strings. Our ids are issued below 2^53, so they are
 * exact as JS numbers; this transformer is the one place that converts them.
 */
export const int64Number: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => (value === null ? null : Number(value)),
};
