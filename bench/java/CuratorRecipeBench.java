// Curator 5.4's side of the zk-bench recipe benchmark (issue 12).
//
// It does what `zk-bench recipe-client --impl zk-recipes` does (see
// zk-bench/src/recipes/client.rs and lines.rs) with Curator's own recipes, and
// prints the same lines: "RECIPE impl=curator measure=<m> n=<children> values=<v>,...".
//
//   --job cache-build: --builds times a new PathChildrenCache(client, path, true),
//     start(BUILD_INITIAL_CACHE) timed until it returns; count checked; closed.
//   --job cache-memory: one such cache (--data true|false) kept open; the growth of
//     the JVM's used heap (after System.gc()) from before the build to after, per child.
//   --job expiry: a registrant ServiceDiscovery with one instance and an observer
//     PathChildrenCache on the service, each on its own client; --cycles times the
//     registrant's session is expired from a second ZooKeeper handle that resumes it
//     and closes it, and the observer's CHILD_REMOVED and CHILD_ADDED of the
//     instance are timed from the moment close() was called.
//   --job latch: two clients with a LeaderLatch each; --warmup + --cycles times the
//     leader's latch is closed and the time until the other's isLeader() listener
//     runs is taken; the closed side joins again with a new latch.
//   --job get-instance: three instances, a round-robin ServiceProvider that sees
//     them, --batches timed batches of --calls getInstance() after one untimed batch.
//
// Every client is CuratorFrameworkFactory.newClient(cs, 30000, 15000, new
// RetryOneTime(100)). Run with -Djute.maxbuffer=4194304 (a list of 100,000 children
// is over 1 MiB), as scripts/bench does. Built by scripts/bench (`scripts/bench
// recipes`) with javac against Debian's Curator, ZooKeeper, Guava and slf4j jars.

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.PathChildrenCache;
import org.apache.curator.framework.recipes.cache.PathChildrenCacheEvent;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.leader.LeaderLatchListener;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.ServiceInstance;
import org.apache.curator.x.discovery.ServiceProvider;
import org.apache.curator.x.discovery.strategies.RoundRobinStrategy;
import org.apache.zookeeper.ZooKeeper;

public final class CuratorRecipeBench {
    static final String SERVICE = "bench";
    static final long WAIT_SECS = 60;

    static String addr;
    static String path;
    static long deadline;

    static CuratorFramework connect() throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.newClient(addr, 30000, 15000,
            new RetryOneTime(100));
        c.start();
        if (!c.blockUntilConnected(15, TimeUnit.SECONDS)) {
            throw new IllegalStateException("not connected in 15 s");
        }
        return c;
    }

    static boolean late() {
        return System.nanoTime() >= deadline;
    }

    static void print(String measure, int n, List<Double> values) {
        if (values.isEmpty()) {
            throw new IllegalStateException(measure + ": nothing measured in time");
        }
        StringBuilder b = new StringBuilder("RECIPE impl=curator measure=").append(measure)
            .append(" n=").append(n).append(" values=");
        for (int i = 0; i < values.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            b.append(values.get(i));
        }
        System.out.println(b);
    }

    static void cacheBuild(int children, int builds) throws Exception {
        CuratorFramework client = connect();
        List<Double> values = new ArrayList<>();
        for (int i = 0; i < builds && !late(); i++) {
            PathChildrenCache cache = new PathChildrenCache(client, path, true);
            long started = System.nanoTime();
            cache.start(PathChildrenCache.StartMode.BUILD_INITIAL_CACHE);
            long took = System.nanoTime() - started;
            List<ChildData> held = cache.getCurrentData();
            if (held.size() != children) {
                throw new IllegalStateException("the cache holds " + held.size() + " children, "
                    + children + " wanted");
            }
            for (ChildData c : held) {
                if (c.getData() == null) {
                    throw new IllegalStateException("a child without data: " + c.getPath());
                }
            }
            cache.close();
            values.add((double) took);
        }
        client.close();
        print("cache-build", children, values);
    }

    static long usedHeap() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return rt.totalMemory() - rt.freeMemory();
    }

    static void cacheMemory(int children, boolean data) throws Exception {
        CuratorFramework client = connect();
        long before = usedHeap();
        PathChildrenCache cache = new PathChildrenCache(client, path, data);
        cache.start(PathChildrenCache.StartMode.BUILD_INITIAL_CACHE);
        long after = usedHeap();
        int held = cache.getCurrentData().size();
        if (held != children) {
            throw new IllegalStateException("the cache holds " + held + " children, " + children
                + " wanted");
        }
        List<Double> values = new ArrayList<>();
        values.add((double) Math.round(Math.max(0, after - before) / (double) children));
        cache.close();
        client.close();
        print(data ? "cache-memory-data" : "cache-memory-nodata", children, values);
    }

    static ServiceInstance<Void> instance(String id, int port) throws Exception {
        return ServiceInstance.<Void>builder().name(SERVICE).id(id).address("127.0.0.1")
            .port(port).build();
    }

    /** An observer event: its type, the node's path and owner, and when it was seen. */
    static final class Seen {
        final PathChildrenCacheEvent.Type type;
        final String path;
        final long owner;
        final long at;

        Seen(PathChildrenCacheEvent.Type type, String path, long owner, long at) {
            this.type = type;
            this.path = path;
            this.owner = owner;
            this.at = at;
        }
    }

    static Seen nextEvent(LinkedBlockingQueue<Seen> events, PathChildrenCacheEvent.Type type,
            String node, long notOwner) throws Exception {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECS);
        while (true) {
            long left = until - System.nanoTime();
            Seen s = events.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
            if (s == null) {
                throw new IllegalStateException("no " + type + " within " + WAIT_SECS + " s");
            }
            if (s.type == type && s.path.equals(node) && s.owner != notOwner) {
                return s;
            }
        }
    }

    static long expire(CuratorFramework client) throws Exception {
        ZooKeeper zk = client.getZookeeperClient().getZooKeeper();
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper killer = new ZooKeeper(addr, 30000, e -> {
            if (e.getState() == org.apache.zookeeper.Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        }, zk.getSessionId(), zk.getSessionPasswd());
        if (!connected.await(WAIT_SECS, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the killer did not connect");
        }
        long sent = System.nanoTime();
        killer.close();
        return sent;
    }

    static void expiry(int cycles) throws Exception {
        CuratorFramework registrant = connect();
        CuratorFramework observer = connect();
        String id = "expiring";
        ServiceDiscovery<Void> discovery = ServiceDiscoveryBuilder.builder(Void.class)
            .client(registrant).basePath(path).thisInstance(instance(id, 8080)).build();
        discovery.start();
        String node = path + "/" + SERVICE + "/" + id;
        LinkedBlockingQueue<Seen> events = new LinkedBlockingQueue<>();
        PathChildrenCache cache = new PathChildrenCache(observer, path + "/" + SERVICE, true);
        cache.getListenable().addListener((c, e) -> {
            ChildData d = e.getData();
            if (d != null) {
                long owner = d.getStat() == null ? 0 : d.getStat().getEphemeralOwner();
                events.add(new Seen(e.getType(), d.getPath(), owner, System.nanoTime()));
            }
        });
        cache.start();
        nextEvent(events, PathChildrenCacheEvent.Type.CHILD_ADDED, node, 0);
        List<Double> removed = new ArrayList<>();
        List<Double> back = new ArrayList<>();
        for (int i = 0; i < cycles && !late(); i++) {
            long old = registrant.getZookeeperClient().getZooKeeper().getSessionId();
            long expired = expire(registrant);
            Seen gone = nextEvent(events, PathChildrenCacheEvent.Type.CHILD_REMOVED, node, 0);
            Seen again = nextEvent(events, PathChildrenCacheEvent.Type.CHILD_ADDED, node, old);
            removed.add((double) Math.max(0, gone.at - expired));
            back.add((double) Math.max(0, again.at - expired));
        }
        cache.close();
        discovery.close();
        registrant.close();
        observer.close();
        print("expiry-removed", 0, removed);
        print("expiry-back", 0, back);
    }

    static LeaderLatch queuedLatch(CuratorFramework client, String id) throws Exception {
        LeaderLatch latch = new LeaderLatch(client, path, id);
        latch.start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECS);
        while (latch.getOurPath() == null) {
            if (System.nanoTime() > until) {
                throw new IllegalStateException("the latch made no node in time");
            }
            Thread.sleep(1);
        }
        return latch;
    }

    static void latch(int warmup, int cycles) throws Exception {
        CuratorFramework[] clients = {connect(), connect()};
        LeaderLatch[] latches = {queuedLatch(clients[0], "a"), queuedLatch(clients[1], "b")};
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECS);
        while (!latches[0].hasLeadership() && !latches[1].hasLeadership()) {
            if (System.nanoTime() > until) {
                throw new IllegalStateException("no first leader in time");
            }
            Thread.sleep(1);
        }
        int leader = latches[0].hasLeadership() ? 0 : 1;
        List<Double> values = new ArrayList<>();
        for (int i = 0; i < warmup + cycles && !late(); i++) {
            int next = 1 - leader;
            AtomicLong ledAt = new AtomicLong();
            CountDownLatch led = new CountDownLatch(1);
            LeaderLatchListener listener = new LeaderLatchListener() {
                @Override
                public void isLeader() {
                    ledAt.set(System.nanoTime());
                    led.countDown();
                }

                @Override
                public void notLeader() {
                }
            };
            latches[next].addListener(listener);
            long started = System.nanoTime();
            latches[leader].close();
            if (!led.await(WAIT_SECS, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the next participant did not lead in time");
            }
            latches[next].removeListener(listener);
            if (i >= warmup) {
                values.add((double) (ledAt.get() - started));
            }
            latches[leader] = queuedLatch(clients[leader], i % 2 == 0 ? "c" : "d");
            leader = next;
        }
        for (LeaderLatch l : latches) {
            l.close();
        }
        for (CuratorFramework c : clients) {
            c.close();
        }
        print("latch-handoff", 0, values);
    }

    static void getInstance(int batches, int calls) throws Exception {
        CuratorFramework client = connect();
        ServiceDiscovery<Void> discovery = ServiceDiscoveryBuilder.builder(Void.class)
            .client(client).basePath(path).build();
        discovery.start();
        int[] ports = {8081, 8082, 8083};
        for (int i = 0; i < ports.length; i++) {
            discovery.registerService(instance("i" + i, ports[i]));
        }
        ServiceProvider<Void> provider = discovery.serviceProviderBuilder().serviceName(SERVICE)
            .providerStrategy(new RoundRobinStrategy<Void>()).build();
        provider.start();
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECS);
        while (provider.getAllInstances().size() < 3) {
            if (System.nanoTime() > until) {
                throw new IllegalStateException("the provider did not see three instances");
            }
            Thread.sleep(1);
        }
        List<Double> values = new ArrayList<>();
        long sink = 0;
        for (int b = 0; b <= batches && !late(); b++) {
            long started = System.nanoTime();
            for (int i = 0; i < calls; i++) {
                ServiceInstance<Void> got = provider.getInstance();
                sink += got.getPort();
            }
            long took = System.nanoTime() - started;
            // The first batch warms up (and lets the JIT compile the loop).
            if (b > 0) {
                values.add(took / (double) Math.max(1, calls));
            }
        }
        if (sink == 42) {
            System.err.println("unlikely");
        }
        provider.close();
        discovery.close();
        client.close();
        print("get-instance", 0, values);
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --key value, got " + args[i]);
            }
            a.put(args[i].substring(2), args[i + 1]);
        }
        addr = a.get("addr");
        path = a.get("path");
        String job = a.get("job");
        if (addr == null || path == null || job == null) {
            throw new IllegalArgumentException("--addr, --path and --job are required");
        }
        int children = Integer.parseInt(a.getOrDefault("children", "0"));
        deadline = System.nanoTime()
            + TimeUnit.SECONDS.toNanos(Long.parseLong(a.getOrDefault("time-limit-secs", "300")));
        switch (job) {
            case "cache-build":
                cacheBuild(children, Integer.parseInt(a.getOrDefault("builds", "5")));
                break;
            case "cache-memory":
                cacheMemory(children, Boolean.parseBoolean(a.getOrDefault("data", "true")));
                break;
            case "expiry":
                expiry(Integer.parseInt(a.getOrDefault("cycles", "5")));
                break;
            case "latch":
                latch(Integer.parseInt(a.getOrDefault("warmup", "10")),
                    Integer.parseInt(a.getOrDefault("cycles", "50")));
                break;
            case "get-instance":
                getInstance(Integer.parseInt(a.getOrDefault("batches", "5")),
                    Integer.parseInt(a.getOrDefault("calls", "1000000")));
                break;
            default:
                throw new IllegalArgumentException("unknown job " + job);
        }
        System.exit(0);
    }
}
