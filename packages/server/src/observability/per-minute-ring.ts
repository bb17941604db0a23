const MINUTE_MS = 60_000;

/**
 * The last `minutes` minutes of something counted, one bucket per clock minute, in a fixed array:
 * memory does not grow with time or traffic, and a minute nobody counted in reads as absent (the
 * reader fills it with zeros). A bucket is reused once its minute has left the window.
 */
export interface PerMinuteRing<Bucket> {
  /** The bucket of the current minute, made empty first when its slot held an older minute. */
  current(): Bucket;
  /** Each minute of the window, oldest first, ending with the current one; `bucket` absent where nothing was counted. */
  window(): { minute: number; bucket: Bucket | undefined }[];
}

export function createPerMinuteRing<Bucket>(options: { minutes: number; now: () => number; empty: () => Bucket }): PerMinuteRing<Bucket> {
  const { minutes, now, empty } = options;
  const slots: ({ minute: number; bucket: Bucket } | undefined)[] = new Array(minutes);
  const minuteOf = (at: number) => Math.floor(at / MINUTE_MS);
  return {
    current() {
      const minute = minuteOf(now());
      const index = minute % minutes;
      let slot = slots[index];
      if (slot?.minute !== minute) slots[index] = slot = { minute, bucket: empty() };
      return slot.bucket;
    },
    window() {
      const last = minuteOf(now());
      const out: { minute: number; bucket: Bucket | undefined }[] = [];
      for (let minute = last - minutes + 1; minute <= last; minute++) {
        const slot = slots[minute % minutes];
        out.push({ minute: minute * MINUTE_MS, bucket: slot?.minute === minute ? slot.bucket : undefined });
      }
      return out;
    },
  };
}
