using System.Text;

namespace Headscale.Api.Cli.Management;

/// <summary>A plain-text table with aligned columns separated by <c>|</c>, as Headscale's CLI prints.</summary>
public sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public TextTable Add(params string[] cells)
    {
        if (cells.Length != headers.Length)
        {
            throw new ArgumentException($"row has {cells.Length} cells, the table {headers.Length} columns", nameof(cells));
        }

        _rows.Add(cells);
        return this;
    }

    public override string ToString()
    {
        var widths = new int[headers.Length];
        foreach (var row in _rows.Prepend(headers))
        {
            for (var i = 0; i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        var text = new StringBuilder();
        foreach (var row in _rows.Prepend(headers))
        {
            for (var i = 0; i < row.Length; i++)
            {
                if (i > 0)
                {
                    text.Append(" | ");
                }

                // The last column is not padded, so lines carry no trailing spaces.
                text.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i]));
            }

            text.Append('\n');
        }

        return text.ToString().TrimEnd('\n');
    }
}
