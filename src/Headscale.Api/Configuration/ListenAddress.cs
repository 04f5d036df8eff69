using System.Globalization;
using System.Net;

namespace Headscale.Api.Configuration;

/// <summary>A <c>host:port</c> listen address as Headscale writes it (<c>:8080</c> means every interface).</summary>
public sealed record ListenAddress(IPAddress Address, int Port)
{
    public IPEndPoint EndPoint => new(Address, Port);

    public bool IsLoopback => IPAddress.IsLoopback(Address);

    public static bool TryParse(string text, out ListenAddress? address, out string? error)
    {
        address = null;
        error = null;
        var separator = text.LastIndexOf(':');
        if (separator < 0)
        {
            error = $"'{text}' is not host:port";
            return false;
        }

        var hostText = text[..separator];
        var portText = text[(separator + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port > 65535)
        {
            error = $"'{portText}' in '{text}' is not a port number (0-65535)";
            return false;
        }

        if (hostText.StartsWith('[') && hostText.EndsWith(']'))
        {
            hostText = hostText[1..^1];
        }

        IPAddress ip;
        if (hostText.Length == 0 || hostText == "0.0.0.0")
        {
            ip = hostText.Length == 0 ? IPAddress.IPv6Any : IPAddress.Any;
        }
        else if (hostText.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            ip = IPAddress.Loopback;
        }
        else if (!IPAddress.TryParse(hostText, out ip!))
        {
            error = $"'{hostText}' in '{text}' is not an IP address (use an address, 'localhost' or leave it empty for every interface)";
            return false;
        }

        address = new ListenAddress(ip, port);
        return true;
    }

    public override string ToString() =>
        Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6
            ? $"[{Address}]:{Port}"
            : $"{Address}:{Port}";
}
