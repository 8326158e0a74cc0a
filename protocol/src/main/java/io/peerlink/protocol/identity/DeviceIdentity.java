package io.peerlink.protocol.identity;

import io.peerlink.DeviceId;
import io.peerlink.IdentityException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.FileSystemException;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.AclEntry;
import java.nio.file.attribute.AclEntryPermission;
import java.nio.file.attribute.AclEntryType;
import java.nio.file.attribute.AclFileAttributeView;
import java.nio.file.attribute.UserPrincipal;
import java.util.List;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Set;

/**
 * A device's Ed25519 key pair and the {@link DeviceId} derived from its public key.
 *
 * <p>The key file is PEM: a {@code PRIVATE KEY} block (PKCS#8) followed by a {@code PUBLIC KEY}
 * block (X.509 SubjectPublicKeyInfo). The public key is stored alongside because the JDK 17 API
 * cannot derive an Ed25519 public key from a PKCS#8 v1 private key; on load the pair is checked
 * by a sign/verify round trip so a file whose two halves do not belong together is refused as
 * corrupt. Files are created owner-only (POSIX 600) by writing a temporary file with those
 * permissions and moving it into place atomically, so no reader ever sees a partial key.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class DeviceIdentity {
    /** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it. */
    private static final byte[] SPKI_PREFIX = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    private static final int RAW_KEY_LENGTH = 32;
    /** Length of an Ed25519 signature (RFC 8032). */
    public static final int SIGNATURE_LENGTH = 64;
    private static final Set<PosixFilePermission> OWNER_ONLY =
            EnumSet.of(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
    private static final Set<PosixFilePermission> FOREIGN_ACCESS = EnumSet.of(
            PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);
    private static final int MAX_KEY_FILE_BYTES = 16 * 1024;

    private final PrivateKey privateKey;
    private final PublicKey publicKey;
    private final byte[] rawPublicKey;
    private final DeviceId id;

    private DeviceIdentity(PrivateKey privateKey, PublicKey publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
        this.rawPublicKey = rawFromSpki(publicKey.getEncoded());
        this.id = DeviceId.fromPublicKey(rawPublicKey);
    }

    /**
     * @return a fresh identity that lives only in memory (tests, short-lived tools)
     */
    public static DeviceIdentity ephemeral() {
        KeyPair pair = generate();
        return new DeviceIdentity(pair.getPrivate(), pair.getPublic());
    }

    /**
     * Loads the identity in {@code keyFile}, creating it (owner-only) on first use.
     *
     * @param keyFile the PEM key file
     * @return the identity
     * @throws NullPointerException if keyFile is null
     * @throws IdentityException if the parent directory is missing, or the file is unreadable,
     *         corrupt or readable by group/others
     */
    public static DeviceIdentity loadOrCreate(Path keyFile) {
        Objects.requireNonNull(keyFile, "keyFile");
        Path absolute = keyFile.toAbsolutePath();
        Path parent = absolute.getParent();
        if (parent == null || !Files.isDirectory(parent)) {
            throw new IdentityException("cannot create device key " + absolute + ": parent directory "
                    + parent + " does not exist (create it, owner-only, first)");
        }
        if (Files.exists(absolute)) {
            return load(absolute);
        }
        return create(absolute); // race-free: if it appears meanwhile, create() loads it instead
    }

    /**
     * Loads (or creates) the identity in {@code keyFile} and checks that it is the expected device.
     *
     * @param keyFile the PEM key file
     * @param expected the device the file must belong to
     * @return the identity
     * @throws IdentityException as {@link #loadOrCreate(Path)}, and if the file holds another device's key
     */
    public static DeviceIdentity loadOrCreate(Path keyFile, DeviceId expected) {
        Objects.requireNonNull(expected, "expected");
        DeviceIdentity identity = loadOrCreate(keyFile);
        if (!identity.id().equals(expected)) {
            throw new IdentityException("key file " + keyFile.toAbsolutePath() + " belongs to device "
                    + identity.id() + ", not to the expected device " + expected);
        }
        return identity;
    }

    /**
     * Writes a new key durably and without a race: the PEM goes to an owner-only temporary file
     * that is fsynced, then is hard-linked to the final name, which fails if the name exists
     * (CREATE_NEW semantics: two processes creating the same key file at once cannot overwrite
     * each other; the loser loads the winner's key), and the directory is fsynced so the name
     * survives a power cut. Where hard links are not supported, a move without replacement
     * stands in. A file system with neither POSIX permissions nor ACLs cannot protect the key,
     * so no key is written there.
     */
    private static DeviceIdentity create(Path keyFile) {
        KeyPair pair = generate();
        String pem = pem("PRIVATE KEY", pair.getPrivate().getEncoded()) + pem("PUBLIC KEY", pair.getPublic().getEncoded());
        Path dir = keyFile.getParent();
        Path temp = null;
        try {
            FileStore store = Files.getFileStore(dir);
            boolean posix = store.supportsFileAttributeView(PosixFileAttributeView.class);
            if (!posix && !store.supportsFileAttributeView(AclFileAttributeView.class)) {
                throw new IdentityException("cannot create device key " + keyFile + ": its file system (" + store.type()
                        + ") has neither POSIX permissions nor ACLs, so the key could not be kept private; "
                        + "put the key file on a file system that has them");
            }
            FileAttribute<?>[] attrs = posix
                    ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)}
                    : new FileAttribute<?>[0];
            temp = Files.createTempFile(dir, "." + keyFile.getFileName() + ".", ".tmp", attrs);
            if (!posix) {
                restrictToOwner(temp);
            }
            try (FileChannel out = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                ByteBuffer bytes = ByteBuffer.wrap(pem.getBytes(StandardCharsets.US_ASCII));
                while (bytes.hasRemaining()) {
                    out.write(bytes);
                }
                out.force(true);
            }
            try {
                Files.createLink(keyFile, temp);
            } catch (UnsupportedOperationException | FileSystemException e) {
                if (e instanceof FileAlreadyExistsException) {
                    throw (FileAlreadyExistsException) e;
                }
                Files.move(temp, keyFile); // no REPLACE_EXISTING: fails if another process created it meanwhile
                temp = null;
            }
            syncDirectory(dir);
        } catch (FileAlreadyExistsException e) {
            // Another process created the key between our check and our link: use its key, never replace it.
            return load(keyFile);
        } catch (IOException e) {
            throw new IdentityException("cannot create device key " + keyFile + ": " + e, e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // best effort: the original failure is what the caller needs to see
                }
            }
        }
        return new DeviceIdentity(pair.getPrivate(), pair.getPublic());
    }

    /** Makes the directory entry durable; some platforms cannot open a directory, which then has to do. */
    private static void syncDirectory(Path dir) {
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException e) {
            // Not supported here (e.g. Windows); the file's own data was forced already.
        }
    }

    private static void restrictToOwner(Path file) throws IOException {
        AclFileAttributeView view = Files.getFileAttributeView(file, AclFileAttributeView.class);
        UserPrincipal owner = Files.getOwner(file);
        AclEntry entry = AclEntry.newBuilder().setType(AclEntryType.ALLOW).setPrincipal(owner)
                .setPermissions(EnumSet.allOf(AclEntryPermission.class)).build();
        view.setAcl(List.of(entry));
    }

    private static DeviceIdentity load(Path keyFile) {
        try {
            FileStore store = Files.getFileStore(keyFile);
            if (!store.supportsFileAttributeView(PosixFileAttributeView.class)) {
                AclFileAttributeView acl = Files.getFileAttributeView(keyFile, AclFileAttributeView.class);
                if (acl == null) {
                    throw new IdentityException("device key " + keyFile + " is on a file system (" + store.type()
                            + ") with neither POSIX permissions nor ACLs, so nothing keeps others from reading it; "
                            + "refusing to use it. Move it to a file system that has them");
                }
                UserPrincipal owner = Files.getOwner(keyFile);
                for (AclEntry e : acl.getAcl()) {
                    if (e.type() == AclEntryType.ALLOW && !e.principal().equals(owner)
                            && e.permissions().contains(AclEntryPermission.READ_DATA)) {
                        throw new IdentityException("device key " + keyFile + " is readable by " + e.principal().getName()
                                + "; refusing to use it. Allow only its owner to read it");
                    }
                }
            }
            if (store.supportsFileAttributeView(PosixFileAttributeView.class)) {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(keyFile);
                Set<PosixFilePermission> foreign = EnumSet.noneOf(PosixFilePermission.class);
                foreign.addAll(perms);
                foreign.retainAll(FOREIGN_ACCESS);
                if (!foreign.isEmpty()) {
                    throw new IdentityException("device key " + keyFile + " is accessible by group/others ("
                            + PosixFilePermissions.toString(perms) + "); refusing to use it. Run: chmod 600 " + keyFile);
                }
            }
            if (!Files.isRegularFile(keyFile)) {
                throw new IdentityException("device key " + keyFile + " is unreadable: not a regular file");
            }
            if (Files.size(keyFile) > MAX_KEY_FILE_BYTES) {
                throw new IdentityException("device key " + keyFile + " is corrupt: larger than " + MAX_KEY_FILE_BYTES + " bytes");
            }
            String text = Files.readString(keyFile, StandardCharsets.US_ASCII);
            byte[] pkcs8 = pemBlock(keyFile, text, "PRIVATE KEY");
            byte[] spki = pemBlock(keyFile, text, "PUBLIC KEY");
            KeyFactory factory = KeyFactory.getInstance("Ed25519");
            PrivateKey privateKey;
            PublicKey publicKey;
            try {
                privateKey = factory.generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
                publicKey = factory.generatePublic(new X509EncodedKeySpec(spki));
            } catch (GeneralSecurityException | RuntimeException e) {
                throw new IdentityException("device key " + keyFile + " is corrupt: not an Ed25519 key pair (" + e.getMessage() + ")", e);
            }
            if (spki.length != SPKI_PREFIX.length + RAW_KEY_LENGTH
                    || !Arrays.equals(spki, 0, SPKI_PREFIX.length, SPKI_PREFIX, 0, SPKI_PREFIX.length)) {
                throw new IdentityException("device key " + keyFile + " is corrupt: public key is not a 32-byte Ed25519 key");
            }
            DeviceIdentity identity = new DeviceIdentity(privateKey, publicKey);
            byte[] probe = "peerlink-key-pair-check".getBytes(StandardCharsets.US_ASCII);
            if (!verify(identity.rawPublicKey, probe, identity.sign(probe))) {
                throw new IdentityException("device key " + keyFile + " is corrupt: its private and public keys do not belong together");
            }
            return identity;
        } catch (NoSuchFileException e) {
            throw new IdentityException("device key " + keyFile + " disappeared while loading it", e);
        } catch (AccessDeniedException e) {
            throw new IdentityException("device key " + keyFile + " is unreadable: access denied", e);
        } catch (IOException e) {
            throw new IdentityException("device key " + keyFile + " is unreadable: " + e, e);
        } catch (GeneralSecurityException e) {
            throw new IdentityException("Ed25519 is not available in this JVM", e);
        }
    }

    private static byte[] pemBlock(Path file, String text, String label) {
        String begin = "-----BEGIN " + label + "-----";
        String end = "-----END " + label + "-----";
        int b = text.indexOf(begin);
        int e = b < 0 ? -1 : text.indexOf(end, b);
        if (b < 0 || e < 0) {
            throw new IdentityException("device key " + file + " is corrupt: no PEM '" + label + "' block");
        }
        String body = text.substring(b + begin.length(), e).replaceAll("\\s", "");
        try {
            return Base64.getDecoder().decode(body);
        } catch (IllegalArgumentException ex) {
            throw new IdentityException("device key " + file + " is corrupt: bad base64 in the '" + label + "' block", ex);
        }
    }

    private static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n"
                + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    private static KeyPair generate() {
        try {
            return KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IdentityException("Ed25519 is not available in this JVM", e);
        }
    }

    private static byte[] rawFromSpki(byte[] spki) {
        return Arrays.copyOfRange(spki, spki.length - RAW_KEY_LENGTH, spki.length);
    }

    /** @return this device's ID */
    public DeviceId id() {
        return id;
    }

    /** @return a copy of the raw 32-byte Ed25519 public key */
    public byte[] rawPublicKey() {
        return rawPublicKey.clone();
    }

    /**
     * @param message what to sign
     * @return the 64-byte Ed25519 signature
     * @throws NullPointerException if message is null
     */
    public byte[] sign(byte[] message) {
        Objects.requireNonNull(message, "message");
        try {
            Signature signature = Signature.getInstance("Ed25519");
            signature.initSign(privateKey);
            signature.update(message);
            return signature.sign();
        } catch (GeneralSecurityException e) {
            throw new IdentityException("cannot sign with the device key of " + id, e);
        }
    }

    /**
     * Verifies an Ed25519 signature. Never throws for hostile input: a key or signature of the
     * wrong size, or a key that is not a curve point, simply does not verify.
     *
     * @param rawPublicKey the raw 32-byte public key
     * @param message the signed message
     * @param signature the 64-byte signature
     * @return true if the signature is valid
     * @throws NullPointerException if an argument is null
     */
    public static boolean verify(byte[] rawPublicKey, byte[] message, byte[] signature) {
        Objects.requireNonNull(rawPublicKey, "rawPublicKey");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(signature, "signature");
        if (rawPublicKey.length != RAW_KEY_LENGTH || signature.length != SIGNATURE_LENGTH) {
            return false;
        }
        try {
            byte[] spki = Arrays.copyOf(SPKI_PREFIX, SPKI_PREFIX.length + RAW_KEY_LENGTH);
            System.arraycopy(rawPublicKey, 0, spki, SPKI_PREFIX.length, RAW_KEY_LENGTH);
            PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
            Signature verifier = Signature.getInstance("Ed25519");
            verifier.initVerify(key);
            verifier.update(message);
            return verifier.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            // An invalid point or a malformed signature is a failed verification, not an error.
            return false;
        }
    }

    @Override
    public String toString() {
        return "DeviceIdentity[" + id + "]";
    }
}
