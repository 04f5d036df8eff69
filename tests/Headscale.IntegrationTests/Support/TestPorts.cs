using System.Net;
using System.Net.Sockets;

namespace Headscale.IntegrationTests.Support;

/// <summary>Free loopback TCP ports for servers that must be told their port in a config file.</summary>
public static class TestPorts
{
    public static int GetFree()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
