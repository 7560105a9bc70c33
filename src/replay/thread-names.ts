// The name (`comm`) each replayed thread has at the current event, for
// `info threads`: set by exec to the file name the program was run by (as the
// kernel does: its last component, 15 bytes at most), inherited by clone,
// and changed where the recording says (`extra.names`, see
// src/record/thread-names.ts). A session image keeps a copy.
export class ThreadNameBook {
  constructor(private readonly names = new Map<number, string>()) {}

  get(tid: number): string | undefined {
    return this.names.get(tid);
  }

  exec(tid: number, path: string): void {
    this.names.set(tid, Buffer.from(path.slice(path.lastIndexOf('/') + 1)).subarray(0, 15).toString());
  }

  cloned(parent: number, child: number): void {
    const name = this.names.get(parent);
    if (name !== undefined) this.names.set(child, name);
  }

  recorded(names: readonly (readonly [number, string])[] | undefined): void {
    for (const [tid, name] of names ?? []) this.names.set(tid, name);
  }

  copy(): ThreadNameBook {
    return new ThreadNameBook(new Map(this.names));
  }
}
