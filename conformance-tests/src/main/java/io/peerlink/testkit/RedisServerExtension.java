package io.peerlink.testkit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * JUnit 5 extension: starts one real {@link RedisServer} before a test class and stops it after;
 * test methods and constructors receive it as a {@link RedisServer} parameter. Without
 * {@code redis-server} installed the class is skipped, except under {@code CI=true}, where it
 * fails: CI must install the package.
 *
 * <pre>{@code
 * @ExtendWith(RedisServerExtension.class)
 * class MyTest {
 *     @Test void works(RedisServer redis) { ... redis.uri() ... }
 * }
 * }</pre>
 */
public final class RedisServerExtension implements BeforeAllCallback, AfterAllCallback, ParameterResolver {
    private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(RedisServerExtension.class);

    /** JUnit creates the extension. */
    public RedisServerExtension() {
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (RedisServer.binary() == null) {
            String problem = "redis-server is not installed (apt-get install redis-server)";
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError("CI=true but " + problem);
            }
            Assumptions.abort(problem + "; skipped outside CI");
        }
        context.getStore(NS).put(RedisServer.class, RedisServer.start());
    }

    @Override
    public void afterAll(ExtensionContext context) {
        RedisServer server = context.getStore(NS).remove(RedisServer.class, RedisServer.class);
        if (server != null) {
            server.close();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == RedisServer.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return context.getStore(NS).get(RedisServer.class, RedisServer.class);
    }
}
