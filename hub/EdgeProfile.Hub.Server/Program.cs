using EdgeProfile.Hosting;
using EdgeProfile.Hub;

// Bad settings print "edgeprofile-hub: <reason naming the key>" on stderr and exit 2.
return await ServiceRunner.RunAsync("edgeprofile-hub", () => HubApp.Build(args));
