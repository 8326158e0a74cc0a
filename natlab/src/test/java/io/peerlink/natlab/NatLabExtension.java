package io.peerlink.natlab;

import java.util.Optional;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * The JUnit 5 side of {@link NatLabTest}: applies the privilege policy of
 * {@link NatLabEnvironment#verdict} and resolves {@link NatLab.Builder} parameters. A skip is an
 * execution condition (so reports list the tests as skipped, with the reason); a CI failure is
 * thrown before all and before each test.
 */
public final class NatLabExtension
        implements ExecutionCondition, BeforeAllCallback, BeforeEachCallback, ParameterResolver {

    @Override
    public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
        Optional<NatLabEnvironment.Verdict> verdict = currentVerdict();
        if (verdict.isPresent() && !verdict.get().fail()) {
            return ConditionEvaluationResult.disabled(verdict.get().message());
        }
        return ConditionEvaluationResult.enabled("NAT lab available"
                + (verdict.isPresent() ? " check failed; failing under CI=true" : ""));
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        enforce();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        enforce();
    }

    private static Optional<NatLabEnvironment.Verdict> currentVerdict() {
        return NatLabEnvironment.verdict(NatLabEnvironment.missing(), NatLabEnvironment.underCi());
    }

    private static void enforce() {
        Optional<NatLabEnvironment.Verdict> verdict = currentVerdict();
        if (verdict.isPresent() && verdict.get().fail()) {
            throw new IllegalStateException(verdict.get().message());
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
