import { InitialSchema1764000000000 } from './1764000000000-initial-schema';
import { PushOutbox1764000006000 } from './1764000006000-push-outbox';

/** In order. A migration, once released, is never edited: add a new one. */
export const MIGRATIONS = [InitialSchema1764000000000, PushOutbox1764000006000];
