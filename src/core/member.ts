/** A project an image is shared with (OpenStack image members), and whether it took the share. */
export type MemberStatus = "pending" | "accepted" | "rejected";

export const MEMBER_STATUSES: readonly MemberStatus[] = ["pending", "accepted", "rejected"];

export interface ImageMember {
  imageId: string;
  memberId: string;
  status: MemberStatus;
  createdAt: number;
  updatedAt: number;
}
