package org.firkin;

import java.time.Instant;

/**
 * One version of a key (a put or a delete), as {@link Firkin#history}
 * lists them. Immutable; any thread.
 *
 * @param seq the write's sequence number (what {@link Firkin#version} reports)
 * @param commitTime the commit time, null if unknown (written before format 3)
 * @param expiry the absolute expiry, null if none
 * @param deleted whether the version is a delete (value is then null)
 * @param value the value (a copy), null for a delete
 */
public record KeyVersion(long seq, Instant commitTime, Instant expiry, boolean deleted, byte[] value) {}
