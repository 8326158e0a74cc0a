package io.peerlink.tck;

import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.EngineFilter;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.runner.Description;
import org.junit.runner.Runner;
import org.junit.runner.notification.Failure;
import org.junit.runner.notification.RunNotifier;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * Lets a build whose test runner only speaks JUnit 4 run the suite anyway, and fail loudly if
 * nothing ran. Maven 3.8 picks Surefire 2.12.4 when a POM names no version; that Surefire knows
 * no JUnit 5 and used to report "Tests run: 0, BUILD SUCCESS" for a verification. The suite's
 * base classes carry {@code @RunWith(JUnitPlatformBridge.class)} (an inherited annotation), so
 * such a runner hands each verification class to this bridge, which runs it on the JUnit
 * Platform (Jupiter engine only) and reports every test back. JUnit 5 runners (Surefire 3, Gradle,
 * IDEs) ignore the annotation and run the tests directly; if the JUnit Vintage engine is present it
 * hands the class to this bridge too, which then does nothing, so nothing runs twice.
 */
public final class JUnitPlatformBridge extends Runner {

    private final Class<?> testClass;

    /** @param testClass the verification class a JUnit 4 runner found */
    public JUnitPlatformBridge(Class<?> testClass) {
        this.testClass = testClass;
    }

    @Override
    public Description getDescription() {
        return Description.createSuiteDescription(testClass);
    }

    @Override
    public void run(RunNotifier notifier) {
        if (calledByJUnitVintage()) {
            // JUnit Vintage found the annotation: Jupiter runs these tests in the same launch already.
            return;
        }
        AtomicInteger ran = new AtomicInteger();
        Launcher launcher = LauncherFactory.create();
        // Jupiter only: with the Vintage engine on the class path, the annotation would bring us back here.
        launcher.execute(LauncherDiscoveryRequestBuilder.request().selectors(selectClass(testClass))
                .filters(EngineFilter.includeEngines("junit-jupiter")).build(), new TestExecutionListener() {
            @Override
            public void executionStarted(TestIdentifier id) {
                if (id.isTest()) {
                    notifier.fireTestStarted(describe(id));
                }
            }

            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                if (id.isTest()) {
                    notifier.fireTestIgnored(describe(id));
                }
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                Description d = describe(id);
                Throwable t = result.getThrowable().orElse(null);
                if (!id.isTest()) {
                    if (result.getStatus() == TestExecutionResult.Status.FAILED) {
                        notifier.fireTestFailure(new Failure(d, t)); // e.g. the class could not be instantiated
                    }
                    return;
                }
                ran.incrementAndGet();
                if (result.getStatus() == TestExecutionResult.Status.FAILED) {
                    notifier.fireTestFailure(new Failure(d, t));
                } else if (result.getStatus() == TestExecutionResult.Status.ABORTED) {
                    notifier.fireTestAssumptionFailed(new Failure(d, t));
                }
                notifier.fireTestFinished(d);
            }
        });
        if (ran.get() == 0) {
            Description d = Description.createTestDescription(testClass, "peerlinkConformanceSuiteRanNoTests");
            notifier.fireTestStarted(d);
            notifier.fireTestFailure(new Failure(d, new AssertionError("the PeerLink conformance suite ran no test of " + testClass.getName()
                    + " on the JUnit Platform: put junit-jupiter (with its engine) on the test class path and see docs/tck.md")));
            notifier.fireTestFinished(d);
        }
    }

    private static boolean calledByJUnitVintage() {
        return StackWalker.getInstance().walk(frames -> frames.anyMatch(f -> f.getClassName().startsWith("org.junit.vintage.")));
    }

    private Description describe(TestIdentifier id) {
        String name = id.getDisplayName();
        return Description.createTestDescription(testClass, name.endsWith("()") ? name.substring(0, name.length() - 2) : name);
    }
}
