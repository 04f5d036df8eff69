using System.Runtime.InteropServices;

namespace Headscale.Api.Hosting;

/// <summary>
/// The C library's heap. glibc keeps what threads free in its arenas for reuse and gives little of it back by itself:
/// after a storm (registration, thousands of full maps) the server's native heap stayed 30–40 MiB above what it holds
/// once quiet. <c>malloc_trim(0)</c> returns the free pages of every arena to the system.
/// </summary>
internal static class NativeHeap
{
    private static volatile bool _unavailable = !OperatingSystem.IsLinux();

    /// <summary>Gives free native heap pages back; false where there is nothing to call (not glibc) or nothing was released.</summary>
    public static bool Trim()
    {
        if (_unavailable)
        {
            return false;
        }

        try
        {
            return malloc_trim(0) != 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // musl and other C libraries have no malloc_trim.
            _unavailable = true;
            return false;
        }
    }

    [DllImport("libc.so.6", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);
}
