package io.peerlink.natlab;

import java.util.Optional;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.opentest4j.TestAbortedException;

/**
 * The JUnit 5 side of {@link NatLabTest}: applies the privilege policy of
 * {@link NatLabEnvironment#verdict} before all and before each test, and resolves
 * {@link NatLab.Builder} parameters.
 */
public final class NatLabExtension implements BeforeAllCallback, BeforeEachCallback, ParameterResolver {

    @Override
    public void beforeAll(ExtensionContext context) {
        enforce();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        enforce();
    }

    private static void enforce() {
        Optional<NatLabEnvironment.Verdict> verdict =
                NatLabEnvironment.verdict(NatLabEnvironment.missing(), NatLabEnvironment.underCi());
        if (verdict.isPresent()) {
            if (verdict.get().fail()) {
                throw new IllegalStateException(verdict.get().message());
            }
            throw new TestAbortedException(verdict.get().message());
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == NatLab.Builder.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        String name = context.getRequiredTestClass().getSimpleName()
                + context.getTestMethod().map(m -> "." + m.getName()).orElse("");
        return NatLab.builder().name(name);
    }
}
