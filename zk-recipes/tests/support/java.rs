//! The Java helpers of `tests/java` (programs that run Apache Curator itself), compiled
//! with `javac` against the jars of Debian's packages in `/usr/share/java`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// Where Debian's packages put their jars.
pub(crate) const JAVA_DIR: &str = "/usr/share/java";

/// One helper program: `tests/java/<class>.java`, compiled on first use, once per test
/// binary, into `target/tmp/java/<class>`. Declare it as a `static`.
pub(crate) struct JavaHelper {
    class: &'static str,
    jars: &'static [&'static str],
    setup_hint: &'static str,
    classpath: OnceLock<String>,
}

impl JavaHelper {
    /// The helper `class`, which needs `jars` (names in [`JAVA_DIR`]); `setup_hint`
    /// says how to install what is missing.
    pub(crate) const fn new(
        class: &'static str,
        jars: &'static [&'static str],
        setup_hint: &'static str,
    ) -> Self {
        JavaHelper {
            class,
            jars,
            setup_hint,
            classpath: OnceLock::new(),
        }
    }

    /// The main class to run.
    pub(crate) fn class(&self) -> &'static str {
        self.class
    }

    /// How to install what the helper needs, for failure messages.
    pub(crate) fn setup_hint(&self) -> &'static str {
        self.setup_hint
    }

    /// The class path that runs the helper (its classes, its jars, and `slf4j-nop`
    /// when present, to keep the JVM quiet). Compiles the helper on the first call;
    /// fails the test, naming what to install, when a jar or `javac` is missing.
    pub(crate) fn classpath(&self) -> &str {
        self.classpath.get_or_init(|| self.compile())
    }

    fn compile(&self) -> String {
        let (class, hint) = (self.class, self.setup_hint);
        let mut jars = Vec::new();
        for jar in self.jars {
            let path = Path::new(JAVA_DIR).join(jar);
            assert!(
                path.exists(),
                "{} is missing: tests/java/{class}.java needs it; {hint}",
                path.display()
            );
            jars.push(path);
        }
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .join("java")
            .join(class);
        std::fs::create_dir_all(&out).expect("create the class output directory under target/tmp");
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/java")
            .join(format!("{class}.java"));
        let jar_path = std::env::join_paths(&jars).expect("jar paths contain no ':'");
        let compiled = Command::new("javac")
            .arg("-d")
            .arg(&out)
            .arg("-cp")
            .arg(&jar_path)
            .arg(&source)
            .output()
            .unwrap_or_else(|e| panic!("cannot run javac ({e}); {hint}"));
        assert!(
            compiled.status.success(),
            "javac failed on {}:\n{}",
            source.display(),
            String::from_utf8_lossy(&compiled.stderr)
        );
        let mut all = vec![out];
        all.extend(jars);
        let nop = Path::new(JAVA_DIR).join("slf4j-nop.jar");
        if nop.exists() {
            all.push(nop);
        }
        std::env::join_paths(all)
            .expect("paths contain no ':'")
            .into_string()
            .expect("the class path is UTF-8")
    }
}
