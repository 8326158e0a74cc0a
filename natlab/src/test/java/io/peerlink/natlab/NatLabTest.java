package io.peerlink.natlab;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Marks a test class or method that needs a {@link NatLab}.
 *
 * <p>Before it runs, {@link NatLabExtension} checks root, {@code ip}, {@code iptables},
 * {@code sysctl} and namespace support. If something is missing the test is skipped with a
 * message saying what and how to run it, except under {@code CI=true}, where it fails. Test
 * methods may declare a {@link NatLab.Builder} parameter: it comes pre-named after the test so
 * process logs land in {@code target/natlab/<Class>.<method>/}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.TYPE, ElementType.METHOD})
@ExtendWith(NatLabExtension.class)
@Tag("natlab")
public @interface NatLabTest {
}
