// The ZooKeeper Java client's side of the zk-bench speed benchmark (issue 3).
//
// It runs exactly what `zk-bench client` runs (see zk-bench/src/workload.rs and
// client.rs): the same node layout, an untimed warm-up pass over every phase, then
// a timed pass, printing one RESULT line per timed phase. Requests go through the
// asynchronous API; a semaphore keeps the requested number in flight. CPU time is
// the whole JVM's (JIT and GC included) over each timed phase only, as the JVM
// reports it (process CPU time, counted in 10 ms clock ticks: phases last seconds).
//
// Built by scripts/bench with javac against Debian's zookeeper.jar.

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.zookeeper.AsyncCallback;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

public final class ZkBench {
    static final int DATA_LEN = 100;
    static final int NODES = 1000;
    static final int HOUSEKEEPING_DEPTH = 200;
    static final String[] OPS = {"get", "set", "create"};

    enum Kind { GET, SET, CREATE, ENSURE, DELETE }

    final ZooKeeper zk;
    final byte[] data = new byte[DATA_LEN];
    final com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();

    ZkBench(ZooKeeper zk) {
        this.zk = zk;
        for (int i = 0; i < DATA_LEN; i++) {
            data[i] = (byte) ('a' + i % 26);
        }
    }

    /** One phase: every path once, at most `depth` requests in flight. */
    final class Phase implements AsyncCallback.DataCallback, AsyncCallback.StatCallback,
            AsyncCallback.Create2Callback, AsyncCallback.VoidCallback {
        final Kind kind;
        final Semaphore permits;
        final CountDownLatch done;
        final AtomicReference<String> error = new AtomicReference<>();
        final long[] latencies;
        volatile long started;

        Phase(Kind kind, int count, int depth, boolean timeEach) {
            this.kind = kind;
            this.permits = new Semaphore(depth);
            this.done = new CountDownLatch(count);
            this.latencies = timeEach ? new long[count] : null;
        }

        void run(String[] paths) throws InterruptedException {
            for (int i = 0; i < paths.length; i++) {
                permits.acquire();
                if (error.get() != null) {
                    break;
                }
                if (latencies != null) {
                    started = System.nanoTime();
                }
                Integer ctx = i;
                switch (kind) {
                    case GET -> zk.getData(paths[i], false, (AsyncCallback.DataCallback) this, ctx);
                    case SET -> zk.setData(paths[i], data, -1, this, ctx);
                    case CREATE, ENSURE -> zk.create(paths[i], data, ZooDefs.Ids.OPEN_ACL_UNSAFE,
                            CreateMode.PERSISTENT, (AsyncCallback.Create2Callback) this, ctx);
                    case DELETE -> zk.delete(paths[i], -1, this, ctx);
                }
            }
            if (!done.await(600, TimeUnit.SECONDS)) {
                throw new IllegalStateException(kind + ": phase did not finish in time");
            }
            if (error.get() != null) {
                throw new IllegalStateException(error.get());
            }
        }

        void complete(int rc, String path, Object ctx) {
            if (latencies != null) {
                latencies[(Integer) ctx] = System.nanoTime() - started;
            }
            KeeperException.Code code = KeeperException.Code.get(rc);
            boolean ok = code == KeeperException.Code.OK
                || (kind == Kind.ENSURE && code == KeeperException.Code.NODEEXISTS)
                || (kind == Kind.DELETE && code == KeeperException.Code.NONODE);
            if (!ok) {
                error.compareAndSet(null, kind + " " + path + ": " + code);
                while (done.getCount() > 0) {
                    done.countDown();
                }
            }
            done.countDown();
            permits.release();
        }

        @Override
        public void processResult(int rc, String path, Object ctx, byte[] d, org.apache.zookeeper.data.Stat stat) {
            complete(rc, path, ctx);
        }

        @Override
        public void processResult(int rc, String path, Object ctx, org.apache.zookeeper.data.Stat stat) {
            complete(rc, path, ctx);
        }

        @Override
        public void processResult(int rc, String path, Object ctx, String name, org.apache.zookeeper.data.Stat stat) {
            complete(rc, path, ctx);
        }

        @Override
        public void processResult(int rc, String path, Object ctx) {
            complete(rc, path, ctx);
        }
    }

    void pipelined(Kind kind, String[] paths, int depth) throws InterruptedException {
        new Phase(kind, paths.length, depth, false).run(paths);
    }

    String measure(String op, String[] paths, int depth) throws InterruptedException {
        Kind kind = switch (op) {
            case "get" -> Kind.GET;
            case "set" -> Kind.SET;
            default -> Kind.CREATE;
        };
        Phase phase = new Phase(kind, paths.length, depth, depth == 1);
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        phase.run(paths);
        long wall = System.nanoTime() - t0;
        long cpu = os.getProcessCpuTime() - cpu0;
        String p50 = "-";
        String p99 = "-";
        if (phase.latencies != null && phase.latencies.length > 0) {
            long[] l = phase.latencies.clone();
            Arrays.sort(l);
            p50 = Long.toString(percentile(l, 50.0));
            p99 = Long.toString(percentile(l, 99.0));
        }
        return "RESULT impl=java op=" + op + " depth=" + depth + " ops=" + paths.length
            + " wall_ns=" + wall + " cpu_ns=" + cpu + " p50_ns=" + p50 + " p99_ns=" + p99;
    }

    static long percentile(long[] sorted, double p) {
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(1, Math.min(rank, sorted.length)) - 1];
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < argv.length; i += 2) {
            if (!argv[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option, got " + argv[i]);
            }
            a.put(argv[i].substring(2), argv[i + 1]);
        }
        String addr = a.get("addr");
        String root = a.get("root");
        int depth = Integer.parseInt(a.getOrDefault("depth", "1000"));
        int serialOps = Integer.parseInt(a.getOrDefault("serial-ops", "5000"));
        int pipelinedOps = Integer.parseInt(a.getOrDefault("pipelined-ops", "20000"));
        double warmup = Double.parseDouble(a.getOrDefault("warmup", "1.0"));
        if (addr == null || root == null) {
            throw new IllegalArgumentException("--addr and --root are required");
        }

        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(addr, 30000, e -> {
            if (e.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
        });
        if (!connected.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("not connected within 30 s");
        }
        ZkBench b = new ZkBench(zk);

        String nodesParent = root + "/n";
        String createParent = root + "/c";
        String[] nodes = new String[NODES];
        for (int i = 0; i < NODES; i++) {
            nodes[i] = String.format("%s/k-%04d", nodesParent, i);
        }
        String[] parents = {root, nodesParent, createParent};
        b.pipelined(Kind.ENSURE, parents, 1);
        b.pipelined(Kind.ENSURE, nodes, HOUSEKEEPING_DEPTH);

        for (boolean timed : new boolean[] {false, true}) {
            double scale = timed ? 1.0 : warmup;
            for (String op : OPS) {
                int[][] phases = {{1, serialOps}, {depth, pipelinedOps}};
                for (int[] ph : phases) {
                    int d = ph[0];
                    int count = (int) Math.round(ph[1] * scale);
                    if (count == 0) {
                        continue;
                    }
                    String tag = (timed ? "t" : "w") + d;
                    String[] paths = new String[count];
                    for (int i = 0; i < count; i++) {
                        paths[i] = op.equals("create") ? createParent + "/" + tag + "-" + i : nodes[i % NODES];
                    }
                    String line = b.measure(op, paths, d);
                    if (timed) {
                        System.out.println(line);
                        System.out.flush();
                    }
                    if (op.equals("create")) {
                        b.pipelined(Kind.DELETE, paths, HOUSEKEEPING_DEPTH);
                    }
                }
            }
        }

        b.pipelined(Kind.DELETE, nodes, HOUSEKEEPING_DEPTH);
        List<String> rev = new ArrayList<>(Arrays.asList(parents));
        java.util.Collections.reverse(rev);
        for (String p : rev) {
            b.pipelined(Kind.DELETE, new String[] {p}, 1);
        }
        zk.close();
    }
}
