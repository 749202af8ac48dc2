import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { ignoreGone } from "./s3-errors.js";

/**
 * A marker object per live writer, `<prefix>pending/<tag>/<random>`, holding the key and upload
 * id of its multipart upload once it started: S3 lists multipart uploads by object key only, so
 * the marker is how pending data is found by its tag and aborted after a crash.
 */
export interface Marker {
  key: string;
  uploadId: string | null;
}

export function putMarker(
  client: S3Client,
  bucket: string,
  marker: string,
  content: Marker,
): Promise<unknown> {
  return client.send(new PutObjectCommand({ Bucket: bucket, Key: marker, Body: JSON.stringify(content) }));
}

export function deleteMarker(client: S3Client, bucket: string, marker: string): Promise<unknown> {
  return client.send(new DeleteObjectCommand({ Bucket: bucket, Key: marker }));
}

/** Aborts the multipart upload a marker names (if one started and still runs) and removes the marker. */
export async function abortMarked(client: S3Client, bucket: string, marker: string): Promise<void> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: marker }));
    const { key, uploadId } = JSON.parse(await res.Body!.transformToString()) as Marker;
    if (uploadId !== null) {
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch(ignoreGone);
    }
  } catch (err) {
    ignoreGone(err);
  }
  await deleteMarker(client, bucket, marker);
}
