using System.CommandLine;
using System.Globalization;
using Headscale.Management.V1;

namespace Headscale.Api.Cli.Management;

/// <summary>
/// <c>headscale users</c> (aliases <c>user</c>, <c>namespace</c>, <c>namespaces</c>, <c>ns</c>):
/// create, list, destroy, rename. destroy and rename take <c>-i</c> or <c>-n</c>; a name is
/// resolved to its id with a filtered list first, as Headscale does.
/// </summary>
public static class UserCommands
{
    public static Command Create(CliInput input)
    {
        var group = new Command("users", "Manage the users") { Aliases = { "user", "namespace", "namespaces", "ns" } };
        group.Subcommands.Add(CreateUser());
        group.Subcommands.Add(List());
        group.Subcommands.Add(Destroy(input));
        group.Subcommands.Add(Rename());
        return group;
    }

    public static TextTable Table(IEnumerable<User> users)
    {
        var table = new TextTable("ID", "Name", "Username", "Email", "Created");
        foreach (var user in users)
        {
            table.Add(user.Id.ToString(CultureInfo.InvariantCulture), user.DisplayName, user.Name, user.Email, ProtoOutput.Time(user.CreatedAt));
        }

        return table;
    }

    private static Command CreateUser()
    {
        var displayName = new Option<string>("--display-name", "-d") { Description = "Display name" };
        var email = new Option<string>("--email", "-e") { Description = "Email address" };
        email.Validators.Add(result =>
        {
            var text = result.GetValueOrDefault<string>();
            if (!string.IsNullOrEmpty(text) && (text.IndexOf('@', StringComparison.Ordinal) <= 0 || text.EndsWith('@') || text.Any(char.IsWhiteSpace)))
            {
                result.AddError($"--email: '{text}' is not an email address");
            }
        });
        var pictureUrl = new Option<string>("--picture-url", "-p") { Description = "URL of the user's picture" };
        pictureUrl.Validators.Add(result =>
        {
            var text = result.GetValueOrDefault<string>();
            if (!string.IsNullOrEmpty(text) && !(Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
            {
                result.AddError($"--picture-url: '{text}' is not an http(s) URL");
            }
        });

        var command = new Command("create", "Create a user") { Aliases = { "c", "new" } };
        var name = CliOptions.RequiredArgument(command, "name", "the new user's name");
        command.Options.Add(displayName);
        command.Options.Add(email);
        command.Options.Add(pictureUrl);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var request = new CreateUserRequest
            {
                Name = parse.GetValue(name)!.Trim(),
                DisplayName = parse.GetValue(displayName) ?? "",
                Email = parse.GetValue(email) ?? "",
                PictureUrl = parse.GetValue(pictureUrl) ?? "",
            };
            var response = await client.CreateUserAsync(request, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => "User created");
        }, ct, () => $"user '{parse.GetValue(name)!.Trim()}'"));
        return command;
    }

    private static Command List()
    {
        var id = CliOptions.Id("--identifier", "-i", "Only the user with this id", required: false);
        var name = new Option<string>("--name", "-n") { Description = "Only users with this name" };
        var email = new Option<string>("--email", "-e") { Description = "Only users with this email" };
        var command = new Command("list", "List the users") { Aliases = { "ls", "show" } };
        command.Options.Add(id);
        command.Options.Add(name);
        command.Options.Add(email);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var request = new ListUsersRequest { Id = parse.GetValue(id), Name = parse.GetValue(name) ?? "", Email = parse.GetValue(email) ?? "" };
            var response = await client.ListUsersAsync(request, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => Table(response.Users).ToString());
        }, ct));
        return command;
    }

    private static Command Destroy(CliInput input)
    {
        var (id, name) = Selector();
        var command = new Command("destroy", "Delete a user (asks for confirmation)") { Aliases = { "delete" } };
        command.Options.Add(id);
        command.Options.Add(name);
        RequireOneOf(command, id, name);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var user = await ResolveAsync(client, parse.GetValue(id), parse.GetValue(name), output, token);
            if (user is null)
            {
                return 1;
            }

            var question = $"Do you want to remove the user '{user.Name}' (id {user.Id}) and any associated preauthkeys?";
            if (!input.Confirm(parse.GetValue(GlobalOptions.Force), question, output, parse.InvocationConfiguration.Error))
            {
                return 1;
            }

            var response = await client.DeleteUserAsync(new DeleteUserRequest { Id = user.Id }, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => "User destroyed");
        }, ct, () => Subject(parse, id, name)));
        return command;
    }

    private static Command Rename()
    {
        var (id, name) = Selector();
        var newName = CliOptions.Text("--new-name", ["-r"], "The user's new name");
        var command = new Command("rename", "Rename a user") { Aliases = { "mv" } };
        command.Options.Add(id);
        command.Options.Add(name);
        command.Options.Add(newName);
        RequireOneOf(command, id, name);
        command.SetAction((parse, ct) => ManagementCall.RunAsync(parse, async (client, output, token) =>
        {
            var user = await ResolveAsync(client, parse.GetValue(id), parse.GetValue(name), output, token);
            if (user is null)
            {
                return 1;
            }

            var response = await client.RenameUserAsync(new RenameUserRequest { OldId = user.Id, NewName = parse.GetValue(newName)!.Trim() }, cancellationToken: token);
            return ProtoOutput.Write(output, response, () => "User renamed");
        }, ct, () => Subject(parse, id, name)));
        return command;
    }

    private static string Subject(ParseResult parse, Option<ulong> id, Option<string> name) =>
        parse.GetValue(id) is > 0 and var userId ? $"user {userId}" : $"user '{parse.GetValue(name)?.Trim()}'";

    private static (Option<ulong> Id, Option<string> Name) Selector() =>
        (CliOptions.Id("--identifier", "-i", "The user's id", required: false),
         new Option<string>("--name", "-n") { Description = "The user's name" });

    private static void RequireOneOf(Command command, Option<ulong> id, Option<string> name) =>
        command.Validators.Add(result =>
        {
            var hasId = result.GetResult(id) is not null;
            var hasName = result.GetResult(name) is not null;
            if (hasId == hasName)
            {
                result.AddError(hasId
                    ? "--identifier and --name: give only one of them"
                    : "--identifier or --name is required");
            }
            else if (hasName && string.IsNullOrWhiteSpace(result.GetValue(name)))
            {
                result.AddError("--name: must not be empty");
            }
        });

    /// <summary>The one user with this id or name; writes the error and returns null when there is not exactly one.</summary>
    private static async Task<User?> ResolveAsync(
        HeadscaleService.HeadscaleServiceClient client, ulong id, string? name, OutputWriter output, CancellationToken token)
    {
        var request = id > 0 ? new ListUsersRequest { Id = id } : new ListUsersRequest { Name = name!.Trim() };
        var found = await client.ListUsersAsync(request, cancellationToken: token);
        var matches = found.Users.Where(u => id > 0 ? u.Id == id : u.Name == request.Name).ToList();
        var what = id > 0 ? $"with id {id}" : $"named '{request.Name}'";
        switch (matches.Count)
        {
            case 1:
                return matches[0];
            case 0:
                output.WriteError($"no user {what}");
                return null;
            default:
                output.WriteError($"{matches.Count} users are {what}; use --identifier");
                return null;
        }
    }
}
