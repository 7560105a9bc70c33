// Small shared types of the tracer.

/** How a stopped thread is resumed. */
export type ResumeMode = 'continue' | 'syscall' | 'singlestep';
