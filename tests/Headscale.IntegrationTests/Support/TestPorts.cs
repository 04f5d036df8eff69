using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Headscale.IntegrationTests.Support;

/// <summary>Free loopback TCP ports for servers that must be told their port in a config file.</summary>
public static class TestPorts
{
    // The kernel may hand a just-released port out again; a port given to one server here must not go to another
    // (two hosts of one cluster test once got the same port for one's Akka remoting and the other's HTTP).
    private static readonly ConcurrentDictionary<int, byte> HandedOut = new();

    public static int GetFree()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            if (HandedOut.TryAdd(port, 0))
            {
                return port;
            }
        }
    }
}
