// Failpoints: named places on a write path where a test build can make the process die at once,
// to prove that a crash there leaves the store consistent. `BERTH_FAILPOINT=<name>` arms one
// point; when the code reaches it, the process sends itself SIGKILL (no handler runs, no buffer
// is flushed, no finally block runs — what a crash is). The variable is read once, at load: with
// it unset, failpoint() is an empty function.
//
// A SIGKILL is not a power cut: the kernel's page cache survives it, so data written but not yet
// fsynced is still read back after the restart. The power-cut half of the argument is made by
// the unit tests that record the order of writes, fsyncs and renames (test/unit/util/durable.test.ts
// and test/unit/image/store-durability.test.ts).
//
// The points, in the order an ingest reaches them (image/content.ts, image/layers.ts, image/images.ts, registry/storage.ts),
// then the container's:
export const FAILPOINTS = [
  'image-blob-written',       // a layer's tar (or a pulled blob) written to tmp/, not yet synced
  'image-blob-committed',     // the blob synced and renamed into content/, no layer refers to it yet
  'image-layer-extracted',    // the extracted tree moved under layers/<chain>/diff, not yet synced, no meta.json
  'image-layer-committed',    // layers/<chain>/meta.json written: the layer exists, no image uses it
  'image-config-written',     // the config blob in content/, no imagedb entry yet
  'image-imagedb-written',    // imagedb/<id>.json written: the image exists, not yet tagged
  'image-tag-written',        // repositories.json written with the new tag
  'registry-upload-appended', // an upload's bytes appended to uploads/<uuid>/data
  'registry-blob-committed',  // an upload renamed into blobs/, not yet linked in the repository
  'registry-manifest-stored', // a manifest's bytes in blobs/, no revision link or tag yet
  'registry-manifest-linked', // the revision linked, the tag not yet moved
  'container-remove-replied', // engine/container/remove.ts: a remove marked and forgotten, its teardown not begun
] as const;

export type Failpoint = (typeof FAILPOINTS)[number];

const armed = process.env.BERTH_FAILPOINT;

function die(name: Failpoint): void {
  if (name !== armed) return;
  process.stderr.write(`berth: failpoint ${name} reached: killing process ${process.pid}\n`);
  process.kill(process.pid, 'SIGKILL');
}

/** Dies here when BERTH_FAILPOINT names this point; otherwise does nothing. */
export const failpoint: (name: Failpoint) => void = armed ? die : () => {};
