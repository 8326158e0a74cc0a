package io.peerlink.natlab;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Checks whether this machine can run a {@link NatLab}: Linux, root, {@code ip}, {@code iptables},
 * {@code sysctl}, and network namespaces in which veth pairs and iptables NAT rules work.
 */
public final class NatLabEnvironment {
    /** How to run the lab tests when they are skipped. */
    public static final String HOW_TO_RUN = "run the NAT lab as root: sudo ./mvnw verify -pl natlab -am";

    private static List<String> cached;

    private NatLabEnvironment() {
    }

    /** What is missing on this machine (empty if a lab can be built); probed once per JVM. */
    public static synchronized List<String> missing() {
        if (cached == null) {
            cached = List.copyOf(probe());
        }
        return cached;
    }

    /**
     * The policy: nothing missing -> run; something missing -> skip, or fail when {@code CI=true}
     * (CI must never silently skip the NAT tests).
     *
     * @param missing what {@link #missing()} reported
     * @param ci whether the environment variable {@code CI} is {@code true}
     * @return empty to run, otherwise the verdict and its message
     */
    public static Optional<Verdict> verdict(List<String> missing, boolean ci) {
        if (missing.isEmpty()) {
            return Optional.empty();
        }
        String what = "NAT lab unavailable: " + String.join("; ", missing);
        return Optional.of(ci
                ? new Verdict(true, what + " (CI=true, so this is a failure, not a skip; .ci/run installs "
                        + "iproute2 and iptables and must run as root)")
                : new Verdict(false, what + " -- skipped; " + HOW_TO_RUN));
    }

    /** The outcome of {@link #verdict}: fail (under CI) or skip, with the message to show. */
    public record Verdict(boolean fail, String message) {
    }

    /** Whether the {@code CI} environment variable says we run under CI. */
    public static boolean underCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    private static List<String> probe() {
        List<String> missing = new ArrayList<>();
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            missing.add("not Linux (os.name=" + System.getProperty("os.name") + ")");
            return missing;
        }
        if (!isRoot()) {
            missing.add("not running as root (effective uid is not 0)");
        }
        for (String tool : List.of("ip", "iptables", "sysctl")) {
            if (Commands.locate(tool).isEmpty()) {
                missing.add("'" + tool + "' not found (install " + packageOf(tool) + ")");
            }
        }
        if (missing.isEmpty()) {
            probeNamespace().ifPresent(missing::add);
        }
        return missing;
    }

    private static String packageOf(String tool) {
        switch (tool) {
            case "ip":
                return "iproute2";
            case "iptables":
                return "iptables";
            default:
                return "procps";
        }
    }

    private static boolean isRoot() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    // "Uid: real effective saved fs"
                    String[] fields = line.substring(4).trim().split("\\s+");
                    return fields.length > 1 && fields[1].equals("0");
                }
            }
        } catch (IOException e) {
            return false;
        }
        return false;
    }

    /** Creates a throw-away namespace and tries exactly what a lab needs inside it. */
    private static Optional<String> probeNamespace() {
        String ip = Commands.require("ip").toString();
        String iptables = Commands.require("iptables").toString();
        String ns = "nl" + ProcessHandle.current().pid() + "x999999-probe";
        List<List<String>> steps = List.of(
                List.of(ip, "netns", "add", ns),
                List.of(ip, "-n", ns, "link", "add", "pa", "type", "veth", "peer", "name", "pb"),
                List.of(ip, "-n", ns, "link", "add", "pbr", "type", "bridge"),
                List.of(ip, "netns", "exec", ns, iptables, "-w", "-t", "nat", "-A", "POSTROUTING", "-o", "pa",
                        "-j", "MASQUERADE", "--random-fully"),
                List.of(ip, "netns", "exec", ns, iptables, "-w", "-A", "FORWARD", "-m", "statistic",
                        "--mode", "random", "--probability", "0.5", "-j", "DROP"));
        try {
            for (List<String> step : steps) {
                Commands.Result result = Commands.run(step);
                if (result.exitCode() != 0) {
                    return Optional.of("network namespace support check failed at '" + String.join(" ", step)
                            + "' (exit " + result.exitCode() + "): " + result.stderr().strip());
                }
            }
            return Optional.empty();
        } catch (LabCommandException e) {
            return Optional.of("network namespace support check failed: " + e.getMessage());
        } finally {
            Commands.run(List.of(ip, "netns", "delete", ns));
        }
    }
}
