// Branded types for values that live in the tracee or in the trace, so that
// an address is never confused with a length, nor a recorded tid with a
// live one.
declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

/** An address in a tracee's address space. */
export type RemotePtr = Brand<bigint, 'RemotePtr'>;
/** A thread id as it was during recording (what the program saw). */
export type RecordedTid = Brand<number, 'RecordedTid'>;
/** Index of an event in the trace, starting at 0. */
export type EventIndex = Brand<number, 'EventIndex'>;

export const remotePtr = (v: bigint | number): RemotePtr => BigInt(v) as RemotePtr;
export const recordedTid = (v: number): RecordedTid => v as RecordedTid;
export const eventIndex = (v: number): EventIndex => v as EventIndex;

export type ResumeMode = 'continue' | 'syscall' | 'singlestep';
