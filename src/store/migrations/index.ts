import type { Migration } from 'kysely';
import * as initial from './0001_initial.js';

/** Every migration, in order. Names are permanent once released. */
export const MIGRATIONS: Record<string, Migration> = {
  '0001_initial': initial,
};
