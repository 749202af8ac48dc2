/** One page of a list and the token of the next ("" on the last page). */
export interface Page<T> {
  items: T[];
  nextPageToken: string;
}
