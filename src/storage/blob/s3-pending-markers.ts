import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
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

/**
 * Aborts every multipart upload under the key a marker names and removes the marker. The upload
 * id it records is not enough: a writer killed between starting its upload and recording the id
 * leaves a marker without one and an upload S3 keeps (and bills) until aborted. Keys are unique
 * to one writer, so every upload under the marker's key is that writer's.
 */
export async function abortMarked(client: S3Client, bucket: string, marker: string): Promise<void> {
  const content = await readMarker(client, bucket, marker);
  if (content !== null) {
    const { key, uploadId } = content;
    const uploads = new Set(uploadId === null ? [] : [uploadId]);
    for await (const u of multipartUploads(client, bucket, key)) if (u.key === key) uploads.add(u.uploadId);
    for (const id of uploads) {
      await client
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: id }))
        .catch(ignoreGone);
    }
  }
  await deleteMarker(client, bucket, marker);
}

/** The marker's content, or null when it is gone. */
export async function readMarker(client: S3Client, bucket: string, marker: string): Promise<Marker | null> {
  try {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: marker }));
    return JSON.parse(await res.Body!.transformToString()) as Marker;
  } catch (err) {
    ignoreGone(err);
    return null;
  }
}

/** The multipart uploads in progress under `prefix`, every page of them. */
export async function* multipartUploads(
  client: S3Client,
  bucket: string,
  prefix: string,
): AsyncIterable<{ key: string; uploadId: string; initiatedAt: number }> {
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: bucket,
        Prefix: prefix,
        KeyMarker: keyMarker,
        UploadIdMarker: uploadIdMarker,
      }),
    );
    for (const u of page.Uploads ?? []) {
      if (u.Key && u.UploadId)
        yield { key: u.Key, uploadId: u.UploadId, initiatedAt: u.Initiated?.getTime() ?? 0 };
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
  } while (keyMarker);
}
