package io.peerlink.natlab;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A lab of real Linux NATs built from network namespaces.
 *
 * <p>A {@code core} namespace is the lab's "internet": a router with the well-known server
 * addresses 198.51.100.1–9 on its loopback. Each <em>site</em> is a NAT namespace (plus a
 * carrier-grade NAT namespace for {@link NatKind#DOUBLE_NAT}) connected to the core by a veth
 * pair and owning a bridged 10.x LAN; each <em>device</em> is a namespace on a site's LAN.
 * Addressing (site index {@code i} from 0, device index {@code k} from 0 within its site):
 * <pre>
 *   core  s{i}  203.0.113.(4i+1)/30    ──  site WAN "wan" 203.0.113.(4i+2)/30  (the public address)
 *   DOUBLE_NAT: CGN "sub" 100.64.i.1/30 ── home NAT "wan" 100.64.i.2/30
 *   site LAN bridge "lan" 10.(i+1).0.1/24 ── device "eth0" 10.(i+1).0.(10+k)/24
 * </pre>
 *
 * <p>Namespace names are {@code nl<pid>x<n>-<node>}: the owning JVM's pid lets a later run
 * recognise and delete namespaces left by a crashed run. Namespaces are deleted by
 * {@link #close()}, by a JVM shutdown hook, and as stale leftovers when a new lab is built.
 *
 * <pre>{@code
 * try (NatLab lab = NatLab.builder().site("a", NatKind.PORT_RESTRICTED).device("dev1", "a").build()) {
 *     LabProcess p = lab.startJava("dev1", "io.example.Main", List.of("arg"));
 * }
 * }</pre>
 *
 * <p>Needs root, {@code ip}, {@code iptables} and {@code sysctl}; use {@link NatLabTest} so a test
 * skips (or, under {@code CI=true}, fails) with a precise message when they are missing.
 */
public final class NatLab implements AutoCloseable {
    /** The core namespace's node name. */
    public static final String CORE = "core";

    /** Node names are short so that namespace names stay readable; they never become interface names. */
    private static final Pattern NODE_NAME = Pattern.compile("[a-z][a-z0-9]{0,11}");
    private static final Pattern LAB_NAMESPACE = Pattern.compile("nl(\\d+)x\\d+-.*");
    private static final String CGN_SUFFIX = ".cgn";
    private static final int MAX_SITES = 60;
    private static final int MAX_DEVICES_PER_SITE = 200;
    private static final int CORE_ADDRESSES = 9;
    private static final String LOSS_CHAIN = "NATLAB_LOSS";
    private static final String DELAY_DEVICE = "dly";
    private static final String DELAY_TABLE = "100";

    private static final AtomicInteger LAB_COUNTER = new AtomicInteger();
    private static final Set<NatLab> OPEN = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(NatLab::closeAllOpen, "natlab-cleanup"));
    }

    private static void closeAllOpen() {
        for (NatLab lab : OPEN) {
            try {
                lab.close();
            } catch (RuntimeException e) {
                // Keep going: the other labs must still be cleaned up; the next run removes leftovers.
                System.err.println("natlab: cleanup of " + lab + " failed: " + e);
            }
        }
    }

    private final String prefix;
    private final Path logDirectory;
    private final Map<String, Site> sites;
    private final Map<String, Device> devices;
    private final Map<String, String> namespaces = new LinkedHashMap<>();
    /** LAN ports (veth ends on the site bridge) made so far per site: the next device index there. */
    private final Map<String, Integer> lanPorts = new LinkedHashMap<>();
    private final List<LabProcess> processes = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger processCounter = new AtomicInteger();
    private final Path ip;
    private final Path iptables;
    private final Path sysctl;
    private boolean closed;

    private record Site(String name, NatKind kind, int index, List<String> deviceNames) {
        String publicAddress() {
            return "203.0.113." + (4 * index + 2);
        }

        String coreSideAddress() {
            return "203.0.113." + (4 * index + 1);
        }

        String homeWanAddress() {
            return kind == NatKind.DOUBLE_NAT ? "100.64." + index + ".2" : publicAddress();
        }

        String lanGateway() {
            return "10." + (index + 1) + ".0.1";
        }
    }

    private record Device(String name, String site, String address) {
    }

    private NatLab(Builder builder) {
        this.prefix = "nl" + ProcessHandle.current().pid() + "x" + LAB_COUNTER.getAndIncrement();
        String name = builder.name != null ? builder.name : prefix;
        this.logDirectory = builder.logDirectory != null ? builder.logDirectory
                : Path.of("target", "natlab", name.replaceAll("[^A-Za-z0-9._-]", "_"));
        this.sites = new LinkedHashMap<>();
        this.devices = new LinkedHashMap<>();
        int index = 0;
        for (Map.Entry<String, NatKind> site : builder.sites.entrySet()) {
            List<String> members = new ArrayList<>();
            builder.devices.forEach((device, siteName) -> {
                if (siteName.equals(site.getKey())) {
                    members.add(device);
                }
            });
            Site s = new Site(site.getKey(), site.getValue(), index++, List.copyOf(members));
            sites.put(s.name(), s);
            for (int k = 0; k < members.size(); k++) {
                devices.put(members.get(k), new Device(members.get(k), s.name(),
                        "10." + (s.index() + 1) + ".0." + (10 + k)));
            }
        }
        this.ip = Commands.require("ip");
        this.iptables = Commands.require("iptables");
        this.sysctl = Commands.require("sysctl");
    }

    /** Starts describing a lab. */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a lab: validates the description, then creates namespaces, links, routes and NAT rules. */
    public static final class Builder {
        private final Map<String, NatKind> sites = new LinkedHashMap<>();
        private final Map<String, String> devices = new LinkedHashMap<>();
        private String name;
        private Path logDirectory;

        private Builder() {
        }

        /** Names the lab; process logs go to {@code target/natlab/<name>/} unless {@link #logDirectory} is set. */
        public Builder name(String labName) {
            if (labName == null || labName.isBlank()) {
                throw new IllegalArgumentException("lab name must not be blank");
            }
            this.name = labName;
            return this;
        }

        /** Where {@link NatLab#startJava} writes process output. */
        public Builder logDirectory(Path directory) {
            if (directory == null) {
                throw new NullPointerException("directory");
            }
            this.logDirectory = directory;
            return this;
        }

        /**
         * Adds a site: a NAT of the given kind with its own LAN.
         *
         * @throws IllegalArgumentException if the name is not {@code [a-z][a-z0-9]{0,11}}, is
         *         {@code core} or is already taken, or the lab would exceed 60 sites
         */
        public Builder site(String siteName, NatKind kind) {
            if (kind == null) {
                throw new NullPointerException("kind");
            }
            checkNewName(siteName);
            if (sites.size() >= MAX_SITES) {
                throw new IllegalArgumentException("a lab holds at most " + MAX_SITES + " sites");
            }
            sites.put(siteName, kind);
            return this;
        }

        /**
         * Adds a device on a site's LAN.
         *
         * @throws IllegalArgumentException if the name is invalid or taken, the site is unknown,
         *         or the site is {@link NatKind#FULL_CONE} and already has its one device
         */
        public Builder device(String deviceName, String siteName) {
            checkNewName(deviceName);
            NatKind kind = sites.get(siteName);
            if (kind == null) {
                throw new IllegalArgumentException("device " + deviceName + ": unknown site '" + siteName
                        + "'; declare it with site(...) first (known: " + sites.keySet() + ")");
            }
            long onSite = devices.values().stream().filter(siteName::equals).count();
            if (kind == NatKind.FULL_CONE && onSite >= 1) {
                throw new IllegalArgumentException("site " + siteName + " is FULL_CONE: its DNAT sends every "
                        + "unsolicited packet to one device, so it accepts only one device");
            }
            if (onSite >= MAX_DEVICES_PER_SITE) {
                throw new IllegalArgumentException("site " + siteName + " already has " + onSite + " devices");
            }
            devices.put(deviceName, siteName);
            return this;
        }

        private void checkNewName(String node) {
            if (node == null || !NODE_NAME.matcher(node).matches()) {
                throw new IllegalArgumentException("node name '" + node + "' must match " + NODE_NAME.pattern());
            }
            if (CORE.equals(node) || sites.containsKey(node) || devices.containsKey(node)) {
                throw new IllegalArgumentException("node name '" + node + "' is already used");
            }
        }

        /**
         * Creates the lab. Stale namespaces of dead JVMs are removed first; if any step fails,
         * everything created so far is deleted again.
         *
         * @throws LabCommandException if a command fails (typically: not root)
         */
        public NatLab build() {
            NatLab lab = new NatLab(this);
            removeStaleNamespaces();
            OPEN.add(lab);
            try {
                lab.create();
            } catch (RuntimeException | Error e) {
                try {
                    lab.close();
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
            return lab;
        }
    }

    /**
     * Deletes every lab namespace whose owning JVM (the pid in its name) is gone, killing any
     * process still inside it. Called by {@link Builder#build()}.
     *
     * @return the names of the deleted namespaces
     */
    public static List<String> removeStaleNamespaces() {
        Path ipPath = Commands.require("ip");
        long self = ProcessHandle.current().pid();
        List<String> removed = new ArrayList<>();
        for (String ns : listNamespaces(ipPath)) {
            Matcher m = LAB_NAMESPACE.matcher(ns);
            if (!m.matches()) {
                continue;
            }
            long owner = Long.parseLong(m.group(1));
            if (owner != self && ProcessHandle.of(owner).isEmpty()) {
                deleteNamespace(ipPath, ns);
                removed.add(ns);
            }
        }
        return removed;
    }

    /** Every network namespace name {@code ip netns list} reports right now. */
    public static List<String> listNamespaces() {
        return listNamespaces(Commands.require("ip"));
    }

    private static List<String> listNamespaces(Path ipPath) {
        List<String> names = new ArrayList<>();
        for (String line : Commands.check(List.of(ipPath.toString(), "netns", "list")).stdout().split("\n")) {
            String trimmed = line.strip();
            if (!trimmed.isEmpty()) {
                // Lines look like "name (id: 3)" once the namespace has a peer id.
                names.add(trimmed.split("\\s+", 2)[0]);
            }
        }
        return names;
    }

    private static void deleteNamespace(Path ipPath, String ns) {
        // A namespace lives on while a process is inside it, so kill those first.
        Commands.Result pids = Commands.run(List.of(ipPath.toString(), "netns", "pids", ns));
        for (String pid : pids.stdout().split("\\s+")) {
            if (!pid.isBlank()) {
                ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
        Commands.Result result = Commands.run(List.of(ipPath.toString(), "netns", "delete", ns));
        if (result.exitCode() != 0 && listNamespaces(ipPath).contains(ns)) {
            result.requireSuccess();
        }
    }

    // ---------------------------------------------------------------- construction

    private void create() {
        addNamespace(CORE);
        for (int n = 1; n <= CORE_ADDRESSES; n++) {
            ipIn(CORE, "addr", "add", "198.51.100." + n + "/32", "dev", "lo");
        }
        enableForwarding(CORE);
        for (Site site : sites.values()) {
            createSite(site);
        }
        for (Device device : devices.values()) {
            createDevice(device);
        }
    }

    private void createSite(Site site) {
        String nat = site.name();
        addNamespace(nat);
        enableForwarding(nat);
        String upstream = nat;
        if (site.kind() == NatKind.DOUBLE_NAT) {
            upstream = nat + CGN_SUFFIX;
            addNamespace(upstream);
            enableForwarding(upstream);
        }
        String coreIf = "s" + site.index();
        veth(CORE, coreIf, upstream, "wan");
        ipIn(CORE, "addr", "add", site.coreSideAddress() + "/30", "dev", coreIf);
        ipIn(CORE, "link", "set", coreIf, "up");
        ipIn(upstream, "addr", "add", site.publicAddress() + "/30", "dev", "wan");
        ipIn(upstream, "link", "set", "wan", "up");
        ipIn(upstream, "route", "add", "default", "via", site.coreSideAddress());
        if (site.kind() == NatKind.DOUBLE_NAT) {
            veth(upstream, "sub", nat, "wan");
            ipIn(upstream, "addr", "add", "100.64." + site.index() + ".1/30", "dev", "sub");
            ipIn(upstream, "link", "set", "sub", "up");
            ipIn(nat, "addr", "add", site.homeWanAddress() + "/30", "dev", "wan");
            ipIn(nat, "link", "set", "wan", "up");
            ipIn(nat, "route", "add", "default", "via", "100.64." + site.index() + ".1");
            iptablesIn(upstream, "-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "MASQUERADE");
        }
        ipIn(nat, "link", "add", "lan", "type", "bridge");
        ipIn(nat, "addr", "add", site.lanGateway() + "/24", "dev", "lan");
        ipIn(nat, "link", "set", "lan", "up");
        // Loss is injected through one chain so dropProbability can replace it atomically enough.
        iptablesIn(nat, "-N", LOSS_CHAIN);
        iptablesIn(nat, "-A", "FORWARD", "-j", LOSS_CHAIN);
        switch (site.kind()) {
            case PORT_RESTRICTED, DOUBLE_NAT ->
                    iptablesIn(nat, "-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "MASQUERADE");
            case SYMMETRIC ->
                    iptablesIn(nat, "-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "MASQUERADE", "--random-fully");
            case FULL_CONE -> {
                iptablesIn(nat, "-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "SNAT",
                        "--to-source", site.publicAddress());
                if (!site.deviceNames().isEmpty()) {
                    Device only = devices.get(site.deviceNames().get(0));
                    iptablesIn(nat, "-t", "nat", "-A", "PREROUTING", "-i", "wan", "-j", "DNAT",
                            "--to-destination", only.address());
                }
            }
            case HAIRPIN -> createHairpin(site);
        }
    }

    /**
     * The hairpin: LAN packets to our own public address are policy-routed into an internal veth
     * loop (hp0 -> hp1), SNATed to the sender's public mapping on the way out of hp0, and arrive
     * on hp1 as if from the internet, where conntrack matches them against the target's mapping.
     * docs/natlab.md explains each rule.
     */
    private void createHairpin(Site site) {
        String nat = site.name();
        String pub = site.publicAddress();
        iptablesIn(nat, "-t", "nat", "-A", "POSTROUTING", "-o", "wan", "-j", "MASQUERADE");
        ipIn(nat, "link", "add", "hp0", "type", "veth", "peer", "name", "hp1");
        ipIn(nat, "link", "set", "hp0", "up");
        ipIn(nat, "link", "set", "hp1", "up");
        sysctlIn(nat, "net.ipv4.conf.all.rp_filter=0");
        sysctlIn(nat, "net.ipv4.conf.hp1.rp_filter=0");
        // The looped packet's source is our own address; Linux drops that as martian unless told.
        sysctlIn(nat, "net.ipv4.conf.hp1.accept_local=1");
        // Our public address is local, so the local table must come after the hairpin rule.
        ipIn(nat, "rule", "add", "pref", "100", "iif", "lan", "to", pub, "lookup", "100");
        ipIn(nat, "rule", "add", "pref", "200", "lookup", "local");
        ipIn(nat, "rule", "del", "pref", "0");
        ipIn(nat, "route", "add", pub + "/32", "dev", "hp0", "table", "100");
        iptablesIn(nat, "-t", "nat", "-A", "POSTROUTING", "-o", "hp0", "-j", "SNAT", "--to-source", pub);
        // A looped packet that matches no mapping must be dropped before conntrack confirms it:
        // a confirmed UNREPLIED entry would clash with the target's later outbound packet.
        iptablesIn(nat, "-A", "INPUT", "-i", "hp1", "-m", "conntrack", "--ctstate", "NEW", "-j", "DROP");
    }

    private void createDevice(Device device) {
        Site site = sites.get(device.site());
        int k = site.deviceNames().indexOf(device.name());
        lanPorts.merge(site.name(), 1, Integer::sum);
        addNamespace(device.name());
        attach(device, site, k);
    }

    /** Plugs a device's {@code eth0} into a site's LAN bridge as port {@code d<k>}, with its address and default route. */
    private void attach(Device device, Site site, int k) {
        String port = "d" + k;
        veth(device.name(), "eth0", site.name(), port);
        ipIn(site.name(), "link", "set", port, "master", "lan");
        ipIn(site.name(), "link", "set", port, "up");
        ipIn(device.name(), "addr", "add", device.address() + "/24", "dev", "eth0");
        ipIn(device.name(), "link", "set", "eth0", "up");
        ipIn(device.name(), "route", "add", "default", "via", site.lanGateway());
    }

    private void addNamespace(String node) {
        String ns = prefix + "-" + node;
        Commands.check(List.of(ip.toString(), "netns", "add", ns));
        namespaces.put(node, ns);
        ipIn(node, "link", "set", "lo", "up");
    }

    private void veth(String nodeA, String ifA, String nodeB, String ifB) {
        // Created directly inside the namespaces, so the root namespace never sees these names.
        Commands.check(List.of(ip.toString(), "link", "add", ifA, "netns", namespace(nodeA), "type", "veth",
                "peer", "name", ifB, "netns", namespace(nodeB)));
    }

    private void enableForwarding(String node) {
        sysctlIn(node, "net.ipv4.ip_forward=1");
    }

    private void ipIn(String node, String... args) {
        List<String> command = new ArrayList<>(List.of(ip.toString(), "-n", namespace(node)));
        command.addAll(List.of(args));
        Commands.check(command);
    }

    private void iptablesIn(String node, String... args) {
        List<String> command = new ArrayList<>(List.of(iptables.toString(), "-w"));
        command.addAll(List.of(args));
        exec(node, command.toArray(String[]::new));
    }

    private void sysctlIn(String node, String setting) {
        exec(node, sysctl.toString(), "-qw", setting);
    }

    // ---------------------------------------------------------------- queries

    /** The server address in the core namespace: 198.51.100.1 (on the core's loopback). */
    public InetAddress serverAddress() {
        return coreAddress(1);
    }

    /**
     * One of the core's loopback addresses 198.51.100.{n}, n = 1..9: 1 is the server, the others
     * are free for a second server address or a third party.
     */
    public InetAddress coreAddress(int n) {
        if (n < 1 || n > CORE_ADDRESSES) {
            throw new IllegalArgumentException("core address index " + n + " outside 1.." + CORE_ADDRESSES);
        }
        return address("198.51.100." + n);
    }

    /** The address the internet sees for a site (for DOUBLE_NAT: the CGN's WAN address). */
    public InetAddress publicAddress(String site) {
        return address(site(site).publicAddress());
    }

    /** The home NAT's WAN address: equals {@link #publicAddress} except for DOUBLE_NAT (100.64.x.2). */
    public InetAddress homeNatWanAddress(String site) {
        return address(site(site).homeWanAddress());
    }

    /** A device's LAN address (10.x). */
    public InetAddress deviceAddress(String device) {
        Device d = devices.get(device);
        if (d == null) {
            throw new IllegalArgumentException("unknown device '" + device + "' (known: " + devices.keySet() + ")");
        }
        return address(d.address());
    }

    /** The site a device sits behind. */
    public String siteOf(String device) {
        deviceAddress(device);
        return devices.get(device).site();
    }

    /** The NAT kind of a site. */
    public NatKind kind(String site) {
        return site(site).kind();
    }

    /**
     * The netns name of a node: {@value #CORE}, a site (its NAT), {@code <site>.cgn} (a
     * DOUBLE_NAT site's carrier-grade NAT) or a device.
     */
    public String namespace(String node) {
        String ns = namespaces.get(node);
        if (ns == null) {
            throw new IllegalArgumentException("unknown node '" + node + "' (known: " + namespaces.keySet() + ")");
        }
        return ns;
    }

    /** Every namespace this lab created, by node name. */
    public Map<String, String> namespaces() {
        return Collections.unmodifiableMap(new LinkedHashMap<>(namespaces));
    }

    /** Where process output goes. */
    public Path logDirectory() {
        return logDirectory;
    }

    private Site site(String name) {
        Site site = sites.get(name);
        if (site == null) {
            throw new IllegalArgumentException("unknown site '" + name + "' (known: " + sites.keySet() + ")");
        }
        return site;
    }

    private static InetAddress address(String literal) {
        try {
            return InetAddress.getByName(literal);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("not an address literal: " + literal, e);
        }
    }

    // ---------------------------------------------------------------- actions

    /**
     * Runs a command inside a node's namespace and returns its stdout.
     *
     * @throws LabCommandException on a non-zero exit (the message carries stderr)
     */
    public String exec(String node, String... command) {
        return tryExec(node, command).requireSuccess().stdout();
    }

    /** Runs a command inside a node's namespace; the caller inspects exit code and output. */
    public ExecResult tryExec(String node, String... command) {
        List<String> full = new ArrayList<>(List.of(ip.toString(), "netns", "exec", namespace(node)));
        full.addAll(List.of(command));
        Commands.Result r = Commands.run(full);
        return new ExecResult(r.command(), r.exitCode(), r.stdout(), r.stderr());
    }

    /** The outcome of {@link #tryExec}. */
    public record ExecResult(List<String> command, int exitCode, String stdout, String stderr) {
        /**
         * @return this, if the exit code is 0
         * @throws LabCommandException otherwise
         */
        public ExecResult requireSuccess() {
            if (exitCode != 0) {
                throw new LabCommandException(command, exitCode, stderr.isBlank() ? stdout : stderr);
            }
            return this;
        }
    }

    /**
     * Starts {@code ip netns exec <ns> <java> -cp <this JVM's class path> <mainClass> <args>}. Output goes to
     * {@code <logDirectory>/<node>-<SimpleName>-<n>.out|.err}. The process is killed by
     * {@link #close()} if still running.
     */
    public LabProcess startJava(String node, String mainClass, List<String> args) {
        return startJava(node, mainClass, List.of(), args);
    }

    /** Like {@link #startJava(String, String, List)} with extra JVM flags (e.g. {@code -Dkey=value}). */
    public LabProcess startJava(String node, String mainClass, List<String> jvmFlags, List<String> args) {
        checkOpen();
        List<String> command = new ArrayList<>(List.of(ip.toString(), "netns", "exec", namespace(node)));
        command.addAll(javaCommand(mainClass, jvmFlags, args));
        String simpleName = mainClass.substring(mainClass.lastIndexOf('.') + 1);
        String base = node + "-" + simpleName + "-" + processCounter.incrementAndGet();
        LabProcess process = new LabProcess(node, command,
                logDirectory.resolve(base + ".out"), logDirectory.resolve(base + ".err"));
        processes.add(process);
        return process;
    }

    /**
     * Starts any program inside a node's namespace ({@code ip netns exec <ns> <command>}), e.g. a
     * packet capture or a broker. Output goes to {@code <logDirectory>/<node>-<label>-<n>.out|.err}
     * (stdout as UTF-8 lines: redirect binary output to a file inside the command); the process is
     * killed by {@link #close()} if still running.
     */
    public LabProcess start(String node, String label, List<String> command) {
        checkOpen();
        List<String> full = new ArrayList<>(List.of(ip.toString(), "netns", "exec", namespace(node)));
        full.addAll(command);
        String base = node + "-" + label + "-" + processCounter.incrementAndGet();
        LabProcess process = new LabProcess(node, full, logDirectory.resolve(base + ".out"), logDirectory.resolve(base + ".err"));
        processes.add(process);
        return process;
    }

    /**
     * The command line that runs a main class in a fresh JVM like this one: same java binary,
     * small-heap flags, this JVM's class path (PeerLink needs no JVM flag of its own).
     */
    public static List<String> javaCommand(String mainClass, List<String> jvmFlags, List<String> args) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        // Small heap and fast start: labs run several device JVMs on a 2-core machine.
        command.add("-XX:+UseSerialGC");
        command.add("-XX:TieredStopAtLevel=1");
        command.add("-Xmx256m");
        command.addAll(jvmFlags);
        command.add("-cp");
        command.add(testClassPath());
        command.add(mainClass);
        command.addAll(args);
        return command;
    }

    private static String testClassPath() {
        // Surefire may launch through a manifest-only jar; it exposes the real test class path here.
        String surefire = System.getProperty("surefire.test.class.path");
        return surefire != null && !surefire.isBlank() ? surefire : System.getProperty("java.class.path");
    }

    /**
     * Drops each packet crossing a site's WAN (both directions, forwarded traffic) with the given
     * probability, using {@code iptables -m statistic --mode random}; 0 removes the loss.
     */
    public void dropProbability(String site, double probability) {
        checkOpen();
        site(site);
        if (!(probability >= 0.0 && probability <= 1.0)) {
            throw new IllegalArgumentException("probability " + probability + " outside [0, 1]");
        }
        iptablesIn(site, "-F", LOSS_CHAIN);
        if (probability > 0.0) {
            String p = String.format(Locale.ROOT, "%.6f", probability);
            for (String direction : List.of("-i", "-o")) {
                iptablesIn(site, "-A", LOSS_CHAIN, direction, "wan", "-m", "statistic", "--mode", "random",
                        "--probability", p, "-j", "DROP");
            }
        }
    }

    /**
     * Makes a site's NAT drop every UDP packet it would forward across its WAN, both directions
     * (a network where only TCP gets out). Its devices' STUN and TURN-over-UDP fail; TCP passes.
     */
    public void dropUdp(String site) {
        checkOpen();
        site(site);
        for (String direction : List.of("-i", "-o")) {
            iptablesIn(site, "-I", "FORWARD", "1", direction, "wan", "-p", "udp", "-j", "DROP");
        }
    }

    /**
     * Moves a device to another site's LAN, as a laptop moving from one network to another: its
     * {@code eth0} is deleted (taking its address and routes with it) and a new {@code eth0} is
     * plugged into the target site's bridge with the next free address there,
     * {@code 10.(j+1).0.(10+k)}, and a default route via that LAN's gateway. Processes in the
     * device's namespace keep running; sockets bound to the wildcard address send from the new
     * address, through the new site's NAT, from then on. Conntrack entries in the old site's NAT
     * stay until they expire. The gap with no interface lasts as long as the {@code ip} commands
     * (tens of milliseconds).
     *
     * @return the device's new LAN address
     * @throws IllegalArgumentException if the device or site is unknown, the device is already
     *         there, or the site is {@link NatKind#FULL_CONE} (its DNAT names one device)
     */
    public synchronized InetAddress moveDevice(String device, String toSite) {
        checkOpen();
        Device d = devices.get(device);
        if (d == null) {
            throw new IllegalArgumentException("unknown device '" + device + "' (known: " + devices.keySet() + ")");
        }
        Site target = site(toSite);
        if (d.site().equals(toSite)) {
            throw new IllegalArgumentException("device " + device + " is already on site " + toSite);
        }
        if (target.kind() == NatKind.FULL_CONE) {
            throw new IllegalArgumentException("site " + toSite + " is FULL_CONE: its DNAT names one device");
        }
        int k = lanPorts.merge(toSite, 1, Integer::sum) - 1;
        if (k >= MAX_DEVICES_PER_SITE) {
            throw new IllegalArgumentException("site " + toSite + " has no free LAN address left");
        }
        Device moved = new Device(device, toSite, "10." + (target.index() + 1) + ".0." + (10 + k));
        // Deleting one end of a veth deletes its peer (the old site's bridge port) too.
        ipIn(device, "link", "del", "eth0");
        devices.put(device, moved);
        attach(moved, target, k);
        return address(moved.address());
    }

    /**
     * Delays every packet the core forwards or sends by {@code oneWay} (once per packet): site to
     * site, site to server and server to site. Two devices on two sites then have a direct round trip
     * of {@code 2 x oneWay} and a round trip through the server's TURN relay of {@code 4 x oneWay}.
     * The kernel has no netem here, so the delay is a user-space delay line on a TUN device
     * ({@code natlab/delayline.py}, python3) in the core: policy routing sends everything arriving
     * from a site, and everything the core itself sends, into the device, and the delay line writes
     * each packet back into it {@code oneWay} later, in order; from there it is routed as usual.
     * Call it once, before starting processes that measure.
     *
     * @param oneWay the added one-way delay, 1 ms or more
     * @return the delay line process (ends with the lab)
     * @throws IllegalArgumentException if the delay is below 1 ms
     */
    public synchronized LabProcess delay(java.time.Duration oneWay) {
        checkOpen();
        if (oneWay.toMillis() < 1) {
            throw new IllegalArgumentException("delay " + oneWay + " below 1 ms");
        }
        Path script;
        try (java.io.InputStream in = NatLab.class.getResourceAsStream("/natlab/delayline.py")) {
            if (in == null) {
                throw new IllegalStateException("natlab/delayline.py is not on the test class path");
            }
            script = logDirectory().resolve("delayline.py");
            java.nio.file.Files.createDirectories(logDirectory());
            java.nio.file.Files.copy(in, script, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write the delay line script", e);
        }
        LabProcess line = start(CORE, "delayline", List.of("python3", script.toString(), DELAY_DEVICE,
                String.valueOf(oneWay.toMillis())));
        line.awaitLine(l -> l.equals("ready " + DELAY_DEVICE), java.time.Duration.ofSeconds(30));
        ipIn(CORE, "link", "set", DELAY_DEVICE, "txqueuelen", "10000", "up");
        // Packets come back out of the device with any source, the core's own included.
        for (String conf : List.of("all", DELAY_DEVICE)) {
            exec(CORE, "sysctl", "-q", "-w", "net.ipv4.conf." + conf + ".rp_filter=0");
            exec(CORE, "sysctl", "-q", "-w", "net.ipv4.conf." + conf + ".accept_local=1");
        }
        ipIn(CORE, "route", "add", "default", "dev", DELAY_DEVICE, "table", DELAY_TABLE);
        for (Site s : sites.values()) {
            ipIn(CORE, "rule", "add", "pref", "10", "iif", "s" + s.index(), "lookup", DELAY_TABLE);
        }
        // "iif lo" is what the core itself sends (the server, the TURN relay).
        ipIn(CORE, "rule", "add", "pref", "10", "iif", "lo", "lookup", DELAY_TABLE);
        return line;
    }

    /**
     * Drops, in the core, every UDP packet between two sites' public addresses (both directions):
     * their devices cannot reach each other directly but still reach the server and its TURN relay.
     * {@link #unblockUdpBetween} removes the rule.
     *
     * @param siteA one site
     * @param siteB the other
     */
    public void blockUdpBetween(String siteA, String siteB) {
        udpBetween("-I", siteA, siteB);
    }

    /**
     * Removes what {@link #blockUdpBetween} added.
     *
     * @param siteA one site
     * @param siteB the other
     */
    public void unblockUdpBetween(String siteA, String siteB) {
        udpBetween("-D", siteA, siteB);
    }

    private void udpBetween(String op, String siteA, String siteB) {
        checkOpen();
        String a = site(siteA).publicAddress();
        String b = site(siteB).publicAddress();
        iptablesIn(CORE, op, "FORWARD", "-p", "udp", "-s", a, "-d", b, "-j", "DROP");
        iptablesIn(CORE, op, "FORWARD", "-p", "udp", "-s", b, "-d", a, "-j", "DROP");
    }

    /**
     * A NAT rebinding on a {@link NatKind#PORT_RESTRICTED} site: the NAT forgets every mapping
     * (conntrack entries of its masquerading are flushed, as after a NAT reboot or an expired
     * mapping) and maps new flows to random ports from now on ({@code MASQUERADE --random-fully}),
     * so a device's next packet leaves from a new public port and packets to the old one are
     * dropped. The devices notice nothing. The flush is the kernel's own: removing and re-adding the
     * NAT's WAN address makes masquerading drop the conntrack entries that used it (no
     * {@code conntrack} tool needed), in one {@code ip -batch}.
     *
     * @param site the site
     * @throws IllegalArgumentException if the site is unknown or not PORT_RESTRICTED
     */
    public synchronized void rebind(String site) {
        checkOpen();
        Site s = site(site);
        if (s.kind() != NatKind.PORT_RESTRICTED) {
            throw new IllegalArgumentException("site " + site + " is " + s.kind() + ", not PORT_RESTRICTED");
        }
        iptablesIn(site, "-t", "nat", "-R", "POSTROUTING", "1", "-o", "wan", "-j", "MASQUERADE", "--random-fully");
        // One ip process for the three steps: the WAN is without its address for microseconds.
        Path batch = logDirectory().resolve("rebind-" + site + ".ip");
        try {
            java.nio.file.Files.createDirectories(logDirectory());
            java.nio.file.Files.writeString(batch, String.join("\n",
                    "addr del " + s.publicAddress() + "/30 dev wan",
                    "addr add " + s.publicAddress() + "/30 dev wan",
                    "route add default via " + s.coreSideAddress(), ""));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write " + batch, e);
        }
        ipIn(site, "-batch", batch.toString());
    }

    /**
     * Makes a site's NAT forward only TCP to and from one port across its WAN (a network where only
     * HTTP(S) gets out): every UDP packet is dropped as with {@link #dropUdp}, and so is TCP to any
     * other port — the TURN port included.
     *
     * @param site the site
     * @param tcpPort the one TCP port (the server's HTTP/WebSocket port)
     */
    public void onlyTcpPort(String site, int tcpPort) {
        dropUdp(site);
        String port = String.valueOf(tcpPort);
        iptablesIn(site, "-I", "FORWARD", "1", "-o", "wan", "-p", "tcp", "!", "--dport", port, "-j", "DROP");
        iptablesIn(site, "-I", "FORWARD", "1", "-i", "wan", "-p", "tcp", "!", "--sport", port, "-j", "DROP");
    }

    /**
     * Makes a site's NAT forward nothing across its WAN but TCP to one address and port, both
     * directions (a network whose only way out is an HTTP proxy): UDP, ICMP and TCP to anything
     * else are dropped.
     */
    public void onlyTcpTo(String site, InetAddress address, int tcpPort) {
        checkOpen();
        site(site);
        String port = String.valueOf(tcpPort);
        String host = address.getHostAddress();
        iptablesIn(site, "-I", "FORWARD", "1", "-o", "wan", "!", "-p", "tcp", "-j", "DROP");
        iptablesIn(site, "-I", "FORWARD", "1", "-i", "wan", "!", "-p", "tcp", "-j", "DROP");
        iptablesIn(site, "-I", "FORWARD", "1", "-o", "wan", "-p", "tcp", "!", "-d", host, "-j", "DROP");
        iptablesIn(site, "-I", "FORWARD", "1", "-o", "wan", "-p", "tcp", "!", "--dport", port, "-j", "DROP");
        iptablesIn(site, "-I", "FORWARD", "1", "-i", "wan", "-p", "tcp", "!", "-s", host, "-j", "DROP");
        iptablesIn(site, "-I", "FORWARD", "1", "-i", "wan", "-p", "tcp", "!", "--sport", port, "-j", "DROP");
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("lab " + prefix + " is closed");
        }
    }

    /**
     * Kills every process started by or running in the lab and deletes its namespaces (and with
     * them every veth, bridge and iptables rule). Idempotent.
     *
     * @throws LabCommandException if a namespace could not be deleted
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<LabProcess> started;
        synchronized (processes) {
            started = new ArrayList<>(processes);
        }
        started.forEach(LabProcess::destroy);
        RuntimeException failure = null;
        List<String> reversed = new ArrayList<>(namespaces.values());
        Collections.reverse(reversed);
        for (String ns : reversed) {
            try {
                deleteNamespace(ip, ns);
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        OPEN.remove(this);
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public String toString() {
        return "NatLab[" + prefix + ", sites=" + sites.values() + "]";
    }
}
