/** Every async call takes these last; the signal is passed down to whatever does the work. */
export interface AbortOptions { signal?: AbortSignal }
