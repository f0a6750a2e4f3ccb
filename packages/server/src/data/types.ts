/** Who is acting on, or looking at, the data-collaboration server: one person's lasting identity. */
export interface DataMember {
  /** A signed-in user (all its seats), or a guest's seat by a hash of its resume token (ImManager's chatParty key). */
  key: string;
  name: string;
  /** The username of a signed-in member, null for a guest. */
  user: string | null;
  /** An organizer: manages every poll and question. */
  organizer: boolean;
  /** May create polls under the meeting policy, and so sees running polls' results. */
  pollster: boolean;
  /** A presenter or organizer: marks questions answered or dismissed. */
  moderator: boolean;
}
