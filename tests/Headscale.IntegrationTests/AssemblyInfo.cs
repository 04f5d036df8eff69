// The integration tests drive real Linux processes (PostgreSQL via runuser, signals via libc).
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
