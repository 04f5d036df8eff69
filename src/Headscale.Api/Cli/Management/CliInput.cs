namespace Headscale.Api.Cli.Management;

/// <summary>
/// Where the CLI reads answers to confirmation prompts. Prompts are only shown on an interactive
/// input; otherwise a destructive command needs <c>--force</c>.
/// </summary>
/// <param name="Reader">The input to read an answer from.</param>
/// <param name="IsInteractive">Whether a person can answer (stdin is a terminal).</param>
public sealed record CliInput(TextReader Reader, bool IsInteractive)
{
    public static CliInput FromConsole() => new(Console.In, !Console.IsInputRedirected);

    /// <summary>
    /// True when the action may proceed: <c>--force</c> given, or the user answered yes. Writes the
    /// refusal itself when it returns false.
    /// </summary>
    public bool Confirm(bool force, string question, OutputWriter output, TextWriter prompt)
    {
        if (force)
        {
            return true;
        }

        if (!IsInteractive)
        {
            output.WriteError($"{question} needs confirmation: stdin is not interactive, pass --force to proceed");
            return false;
        }

        prompt.Write($"{question} [y/N] ");
        prompt.Flush();
        var answer = Reader.ReadLine()?.Trim();
        if (answer is not null && (answer.Equals("y", StringComparison.OrdinalIgnoreCase) || answer.Equals("yes", StringComparison.OrdinalIgnoreCase)))
        {
            return true;
        }

        output.WriteError("aborted: not confirmed");
        return false;
    }
}
