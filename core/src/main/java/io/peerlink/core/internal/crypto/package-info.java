/**
 * PeerLink's security layer on JDK cryptography only (docs/protocol-security.md).
 *
 * <ul>
 *   <li>{@link io.peerlink.core.internal.crypto.SecureHandshake}: Noise XX bound to the devices'
 *       Ed25519 identities; three messages; yields the verified remote
 *       {@link io.peerlink.DeviceId} and {@link io.peerlink.core.internal.crypto.SessionKeys}.</li>
 *   <li>{@link io.peerlink.core.internal.crypto.PacketProtector}: AEAD sealing of data-path packets
 *       with the header as associated data, anti-replay window and key update.</li>
 * </ul>
 *
 * <p>Data path, as a channel would use it:
 * <pre>{@code
 * PacketProtector protector = keys.newPacketProtector(RekeyPolicy.DEFAULT, loop.nanoTime());
 * // send
 * int start = buf.position();
 * int phase = protector.sendKeyPhase(now);          // put this bit into the header
 * writeHeader(buf, connectionId, packetNumber, phase);
 * int payloadStart = buf.position();
 * writeFrames(buf);                                  // leave PacketProtector.EXPANSION bytes free
 * protector.seal(buf, start, payloadStart, packetNumber);
 * // receive
 * long pn = decodePacketNumber(protector.largestReceived(), truncatedFromHeader);
 * if (protector.open(buf, start, payloadStart, pn, phaseFromHeader, now) == OpenResult.OPENED) {
 *     readFrames(buf);                               // plaintext between position and limit
 * }
 * // on every ACKed packet number: protector.onAcknowledged(pn); on close: protector.destroy()
 * }</pre>
 *
 * <p>Everything here is confined to one thread per session (the event loop); nothing is
 * thread-safe.
 */
package io.peerlink.core.internal.crypto;
