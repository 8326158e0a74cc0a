package io.peerlink;

/**
 * Where a path of a {@link PeerLink} stands (docs/architecture.md, "Sessions and paths"):
 *
 * <pre>
 *  PROBING --PATH_RESPONSE--&gt; VALIDATED --chosen--&gt; ACTIVE --replaced--&gt; STANDBY
 *     |                                                 |                    |
 *     +--no answer--&gt; FAILED   &lt;--transport failed--+--------------------+
 * </pre>
 */
public enum PathState {
    /** Heard from (or added by this device) and being validated with PATH_CHALLENGE; carries no data. */
    PROBING,
    /** The peer answered a PATH_CHALLENGE on it; ready to carry data. */
    VALIDATED,
    /** The path the link sends on now; exactly one path of a link is active. */
    ACTIVE,
    /** Validated and used before; kept as a fallback. */
    STANDBY,
    /** Validation failed or its transport stopped; never used again. */
    FAILED
}
