// Quickstart: the Java binding of Firkin in one page.
//
//   javac -cp firkin.jar Quickstart.java
//   java -cp firkin.jar:. -Djava.library.path=/usr/local/lib Quickstart /tmp/firkin-quickstart
import java.nio.charset.StandardCharsets;
import org.firkin.Batch;
import org.firkin.Entry;
import org.firkin.Firkin;
import org.firkin.FirkinException;
import org.firkin.FirkinIterator;
import org.firkin.Isolation;
import org.firkin.Namespace;
import org.firkin.Snapshot;
import org.firkin.Transaction;

public class Quickstart {
  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  public static void main(String[] args) {
    String path = args.length > 0 ? args[0] : "firkin-quickstart";
    try (Firkin db = Firkin.open(path)) {
      // Point operations; get returns null when the key is absent.
      db.put(b("hello"), b("world"));
      System.out.println("hello = " + new String(db.get(b("hello")), StandardCharsets.UTF_8));
      System.out.println("nobody = " + db.get(b("nobody")));

      // A namespace, and an atomic batch across namespaces.
      try (Namespace users = db.namespace("users");
          Batch batch = new Batch()) {
        batch.put(users, b("ada"), b("lovelace")).put(users, b("alan"), b("turing")).delete(b("hello"));
        db.write(batch);

        // A snapshot and a for-each over an iterator (close it: try-with-resources).
        try (Snapshot snap = db.snapshot()) {
          users.put(b("grace"), b("hopper")); // not in the snapshot
          int n = 0;
          try (FirkinIterator it = snap.iterator(users)) {
            for (Entry e : it) {
              n += e.key().length > 0 ? 1 : 0;
            }
          }
          System.out.println("users at the snapshot: " + n + ", now: " + users.count());
        }
      }

      // A transaction (close() rolls back if it was not committed) ...
      try (Transaction tx = db.beginTransaction(Isolation.SNAPSHOT)) {
        tx.put(b("visits"), b("1"));
        tx.commit(); // FirkinException.Conflict if another writer changed "visits" first
      }
      // ... or update(), which begins again when the commit conflicts.
      db.update(tx -> {
        int n = Integer.parseInt(new String(tx.get(b("visits")), StandardCharsets.UTF_8));
        tx.put(b("visits"), b(Integer.toString(n + 1)));
      });
      System.out.println("visits = " + new String(db.get(b("visits")), StandardCharsets.UTF_8));

      // A key that expires in ten minutes, its remaining time (null once
      // expired), and its versions, newest first (time travel by clock time:
      // snapshotAt(Instant)).
      db.put(b("session"), b("token"), java.time.Duration.ofMinutes(10));
      System.out.println("session expires in " + db.ttl(b("session")).toMinutes() + " min");
      try (org.firkin.KeyHistory h = db.history(b("visits"))) {
        System.out.println("visits has " + h.size() + " versions");
      }

      // Errors are typed exceptions carrying the status code.
      try {
        db.put(new byte[0], b("v"));
      } catch (FirkinException.InvalidArgument e) {
        System.out.println("empty key: " + e.getMessage() + " (status " + e.status() + ")");
      }
    }
  }
}
