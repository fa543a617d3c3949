# configmgr.scp remote engine (Windows PowerShell 5.1 compatible; the only PowerShell of the project).
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Runs one plan (docs/engine-protocol.md): allow-listed cmdlets only, parameters by splatting, never
# any code built from data. Answers with exactly one JSON document between fixed markers.
param([string]$PayloadJson)

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

# Everything the engine may run for a plan; tests/unit/test_engine_static.py keeps this list equal
# to the cmdlet catalog.
$AllowedCmdlets = @(
    'Add-CMServiceConnectionPoint', 'Clear-CMComponentStatusMessageCount', 'Clear-CMSiteStatusMessageCount',
    'Get-CMAccount', 'Get-CMComponentStatusMessage', 'Get-CMComponentStatusSetting', 'Get-CMHierarchySetting',
    'Get-CMServiceConnectionPoint', 'Get-CMSite', 'Get-CMSiteComponent', 'Get-CMSiteRole',
    'Get-CMSiteStatusMessage', 'Get-CMSiteSystemServer', 'New-CMAccount', 'New-CMSiteSystemServer',
    'Remove-CMAccount', 'Remove-CMServiceConnectionPoint', 'Remove-CMSiteRole', 'Remove-CMSiteSystemServer',
    'Set-CMAccount', 'Set-CMHierarchySetting', 'Set-CMServiceConnectionPoint', 'Set-CMSite',
    'Set-CMSiteSystemServer',
    'Add-LocalGroupMember', 'ConvertFrom-Json', 'ConvertTo-Json', 'ConvertTo-SecureString', 'Get-ChildItem',
    'Get-CimInstance', 'Get-Content', 'Get-Item', 'Get-ItemProperty', 'Get-LocalGroup', 'Get-LocalGroupMember',
    'Get-Module', 'Get-NetFirewallApplicationFilter', 'Get-NetFirewallPortFilter', 'Get-NetFirewallRule',
    'Get-PSDrive', 'Get-Service', 'Import-Certificate', 'Import-Module', 'Invoke-WebRequest', 'New-Item',
    'New-ItemProperty', 'New-NetFirewallRule', 'New-PSDrive', 'Remove-LocalGroupMember', 'Remove-NetFirewallRule',
    'Restart-Computer', 'Restart-Service', 'Set-ItemProperty', 'Set-Location', 'Set-NetFirewallRule',
    'Start-Process', 'Start-Service', 'Stop-Service', 'Test-Path'
)

function ConvertTo-EngineJson($Value) {
    # A small serializer instead of ConvertTo-Json: 5.1 wraps some arrays as {"value":..,"Count":..}
    # and does not escape non-ASCII, while standard output must stay ASCII to survive any code page.
    if ($null -eq $Value) { return 'null' }
    if ($Value -is [bool]) { if ($Value) { return 'true' } return 'false' }
    if ($Value -is [string] -or $Value -is [char]) {
        $text = [string]$Value
        if ($text -match '^[\x20\x21\x23-\x5b\x5d-\x7e]*$') { return '"' + $text + '"' }
        $sb = [System.Text.StringBuilder]::new($text.Length + 16)
        [void]$sb.Append('"')
        foreach ($c in $text.ToCharArray()) {
            $code = [int]$c
            if ($c -eq '"') { [void]$sb.Append('\"') }
            elseif ($c -eq '\') { [void]$sb.Append('\\') }
            elseif ($code -lt 0x20 -or $code -gt 0x7E) { [void]$sb.Append(('\u{0:x4}' -f $code)) }
            else { [void]$sb.Append($c) }
        }
        [void]$sb.Append('"')
        return $sb.ToString()
    }
    if ($Value -is [System.Collections.IDictionary]) {
        $items = foreach ($key in $Value.Keys) { (ConvertTo-EngineJson ([string]$key)) + ':' + (ConvertTo-EngineJson $Value[$key]) }
        return '{' + (@($items) -join ',') + '}'
    }
    if ($Value -is [System.Collections.IList]) {
        $items = foreach ($item in $Value) { ConvertTo-EngineJson $item }
        return '[' + (@($items) -join ',') + ']'
    }
    if ($Value -is [double] -or $Value -is [single] -or $Value -is [decimal]) {
        $number = [double]$Value
        if ([double]::IsNaN($number) -or [double]::IsInfinity($number)) { return ConvertTo-EngineJson $number.ToString() }
        return $number.ToString('R', [System.Globalization.CultureInfo]::InvariantCulture)
    }
    if (Test-Integer $Value) {
        return ([System.IFormattable]$Value).ToString($null, [System.Globalization.CultureInfo]::InvariantCulture)
    }
    return ConvertTo-EngineJson (ConvertTo-PlainValue $Value)
}

function Test-Integer($Value) {
    return ($Value -is [byte] -or $Value -is [sbyte] -or $Value -is [int16] -or $Value -is [uint16] -or
        $Value -is [int32] -or $Value -is [uint32] -or $Value -is [int64] -or $Value -is [uint64])
}

function ConvertTo-PlainValue($Value) {
    # select = null: the value itself, as data. Objects without a selection become their text.
    if ($null -eq $Value) { return $null }
    if ($Value -is [datetime]) { return $Value.ToString('o', [System.Globalization.CultureInfo]::InvariantCulture) }
    if ($Value -is [enum]) { return $Value.ToString() }
    if ($Value -is [System.Security.SecureString]) { return $null }
    # Numbers and booleans stay data; any other value type (Guid, TimeSpan, a struct) becomes its text.
    if ($Value -is [string] -or $Value -is [bool] -or (Test-Integer $Value) -or $Value -is [double] -or
        $Value -is [single] -or $Value -is [decimal]) { return $Value }
    if ($Value -is [System.Collections.IList]) {
        $list = [System.Collections.ArrayList]::new()
        foreach ($item in $Value) { [void]$list.Add((ConvertTo-PlainValue $item)) }
        return ,$list
    }
    return $Value.ToString()
}

function Select-Shape($Value, $Shape) {
    # Lists are shaped element by element. IList, not IEnumerable: a ConfigMgr IResultObject is
    # enumerable itself and must be read as one object.
    if ($null -eq $Value) { return $null }
    if ($Value -is [System.Collections.IList]) {
        $list = [System.Collections.ArrayList]::new()
        foreach ($item in $Value) { [void]$list.Add((Select-Shape $item $Shape)) }
        return ,$list
    }
    if ($null -eq $Shape) { return ,(ConvertTo-PlainValue $Value) }
    $shaped = [ordered]@{}
    foreach ($property in $Shape.PSObject.Properties) {
        $name = $property.Name
        if ($Value -is [System.Collections.IDictionary]) { $inner = $Value[$name] } else { $inner = $Value.$name }
        $shaped[$name] = Select-Shape $inner $property.Value
    }
    return $shaped
}

function Resolve-PlanValue($Value, $Outputs, $Secrets) {
    if ($Value -is [System.Management.Automation.PSCustomObject]) {
        $names = @(foreach ($p in $Value.PSObject.Properties) { $p.Name })
        if ($names.Count -eq 1 -and $names[0] -eq '$provider') {
            $key = [string]$Value.'$provider'
            if ($null -eq $script:ProviderInfo -or -not $script:ProviderInfo.Contains($key)) { throw "Provider value '$key' is not available." }
            return $script:ProviderInfo[$key]
        }
        if ($names -contains '$ref' -and ($names.Count -eq 1 -or ($names.Count -eq 2 -and $names -contains 'property'))) {
            $ref = [string]$Value.'$ref'
            if (-not $Outputs.Contains($ref)) { throw "Reference to step '$ref', which has not run." }
            if ($names.Count -eq 1) { return ,$Outputs[$ref] }
            $property = [string]$Value.property
            return ,$Outputs[$ref].$property
        }
        if ($names.Count -eq 1 -and $names[0] -eq '$secret') {
            $name = [string]$Value.'$secret'
            if ($null -eq $Secrets -or $null -eq $Secrets.$name) { throw "Secret '$name' is not in the payload." }
            return ConvertTo-SecureString -String ([string]$Secrets.$name) -AsPlainText -Force
        }
        throw 'A parameter value may only be JSON data, {"$ref": step}, {"$ref": step, "property": name}, {"$provider": name} or {"$secret": name}.'
    }
    if ($Value -is [array]) {
        $list = foreach ($item in $Value) { Resolve-PlanValue $item $Outputs $Secrets }
        return ,@($list)
    }
    return $Value
}

function New-ErrorInfo($Stage, $StepId, $Cmdlet, $ErrorRecord) {
    $info = [ordered]@{ stage = $Stage; step = $StepId; cmdlet = $Cmdlet }
    if ($null -eq $Stage) { $info = [ordered]@{} }
    $info['message'] = $ErrorRecord.Exception.Message
    $info['category'] = $ErrorRecord.CategoryInfo.Category.ToString()
    $info['fqid'] = $ErrorRecord.FullyQualifiedErrorId
    $info['exception'] = $ErrorRecord.Exception.GetType().FullName
    return $info
}

function Connect-Provider($Provider, $Secrets) {
    # Facts section 2: since 2111 the module is on PSModulePath; older consoles only set SMS_ADMIN_UI_PATH
    # (...\AdminConsole\bin\i386, the module is one folder up).
    if ($Provider.module) {
        Import-Module -Name ([string]$Provider.module) -ErrorAction Stop
    } else {
        try {
            Import-Module -Name 'ConfigurationManager' -ErrorAction Stop
        } catch {
            if (-not $env:SMS_ADMIN_UI_PATH) { throw }
            $bin = [System.IO.Path]::GetDirectoryName($env:SMS_ADMIN_UI_PATH)
            Import-Module -Name ([System.IO.Path]::Combine($bin, 'ConfigurationManager.psd1')) -ErrorAction Stop
        }
    }
    $siteCode = [string]$Provider.site_code
    $server = [string]$Provider.server
    if (-not $siteCode -or -not $server) {
        $query = @{ Namespace = 'root\SMS'; ClassName = 'SMS_ProviderLocation'; ErrorAction = 'Stop' }
        if ($server) { $query['ComputerName'] = $server }
        $location = $null
        foreach ($candidate in @(Get-CimInstance @query)) {
            if ($candidate.ProviderForLocalSite -and $null -eq $location) { $location = $candidate }
        }
        if ($null -eq $location) { throw 'No SMS Provider for a local site was found (SMS_ProviderLocation).' }
        if (-not $siteCode) { $siteCode = [string]$location.SiteCode }
        if (-not $server) { $server = [string]$location.Machine }
    }
    # Facts section 2: Import-Module may already have created the drive from the console's MRU list.
    $drive = Get-PSDrive -Name $siteCode -PSProvider 'CMSite' -ErrorAction SilentlyContinue
    if ($null -eq $drive) {
        $driveArgs = @{ Name = $siteCode; PSProvider = 'CMSite'; Root = $server; Scope = 'Global'; ErrorAction = 'Stop' }
        if ($Provider.username) {
            $password = ConvertTo-SecureString -String ([string]$Secrets.([string]$Provider.password_secret)) -AsPlainText -Force
            $driveArgs['Credential'] = [System.Management.Automation.PSCredential]::new([string]$Provider.username, $password)
        }
        [void](New-PSDrive @driveArgs)
    }
    Set-Location -Path ($siteCode + ':\') -ErrorAction Stop
    $script:ProviderInfo = @{ site_code = $siteCode; server = $server; namespace = 'root\SMS\site_' + $siteCode }
}

$script:ProviderInfo = $null
$result = [ordered]@{ protocol = 1; ok = $true; steps = [System.Collections.ArrayList]::new(); error = $null }
$startPath = $PWD.Path
try {
    try {
        $payload = ConvertFrom-Json -InputObject $PayloadJson
        if ($payload.protocol -ne 1) { throw "Unsupported protocol version '$($payload.protocol)'." }
    } catch {
        $result.ok = $false
        $result.error = New-ErrorInfo 'payload' $null $null $_
        return
    }
    $outputs = @{}
    $connected = $false
    foreach ($step in $payload.steps) {
        $cmdlet = [string]$step.cmdlet
        if ($AllowedCmdlets -notcontains $cmdlet) {
            $result.ok = $false
            $result.error = [ordered]@{ stage = 'payload'; step = $step.id; cmdlet = $cmdlet; message = "The cmdlet '$cmdlet' is not allowed."; category = 'PermissionDenied'; fqid = 'CmdletNotAllowed'; exception = $null }
            return
        }
        if ($step.cm -and -not $connected) {
            try {
                Connect-Provider $payload.provider $payload.secrets
                $connected = $true
            } catch {
                $result.ok = $false
                $result.error = New-ErrorInfo 'provider' $step.id $cmdlet $_
                return
            }
        }
        $record = [ordered]@{ id = $step.id; ok = $true; output = @(); error = $null }
        try {
            $splat = @{}
            if ($null -ne $step.params) {
                foreach ($p in $step.params.PSObject.Properties) { $splat[$p.Name] = Resolve-PlanValue $p.Value $outputs $payload.secrets }
            }
            $splat['ErrorAction'] = 'Stop'
            $out = @(& $cmdlet @splat)
            if ($out.Count -eq 1) { $outputs[[string]$step.id] = $out[0] } else { $outputs[[string]$step.id] = $out }
            $record.output = Select-Shape $out $step.select
        } catch {
            $record.ok = $false
            $record.error = New-ErrorInfo $null $null $null $_
        }
        [void]$result.steps.Add($record)
        if (-not $record.ok -and $step.on_error -ne 'continue') {
            $result.ok = $false
            $result.error = [ordered]@{ stage = 'step'; step = $step.id; cmdlet = $cmdlet }
            foreach ($key in $record.error.Keys) { $result.error[$key] = $record.error[$key] }
            return
        }
    }
} catch {
    $result.ok = $false
    $result.error = New-ErrorInfo 'engine' $null $null $_
} finally {
    if ($startPath) { Set-Location -LiteralPath $startPath -ErrorAction SilentlyContinue }
    try {
        $document = ConvertTo-EngineJson $result
    } catch {
        # Never leave the controller without a document: say what could not be written.
        $document = '{"protocol":1,"ok":false,"steps":[],"error":{"stage":"engine","step":null,"cmdlet":null,"message":' +
            (ConvertTo-EngineJson ('The result could not be written as JSON: ' + $_.Exception.Message)) +
            ',"category":"InvalidResult","fqid":"ResultNotSerializable","exception":null}}'
    }
    '<<<CMSCP-RESULT>>>' + $document + '<<<CMSCP-END>>>'
}
